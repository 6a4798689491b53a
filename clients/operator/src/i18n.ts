// English and Russian strings; the choice is kept in localStorage.
const en = {
  title: "Callisto", signIn: "Sign in", signOut: "Sign out", username: "User name", password: "Password",
  wrong: "Wrong user name or password", myState: "My state", since: "for", logIn: "Log in", ready: "Ready",
  notReady: "Not ready", logOut: "Log out", reason: "Reason", myCalls: "My calls", noCalls: "No calls",
  agents: "Agents", calls: "Calls", agent: "Agent", state: "State", caller: "Caller", queue: "Queue",
  connecting: "Connecting…", offline: "Connection lost: reconnecting…", refused: "Session ended: sign in again",
  loggedOut: "Logged out", phone: "Phone", answer: "Answer", decline: "Decline", hangUp: "Hang up",
  mute: "Mute", unmute: "Unmute", keypad: "Keypad", hold: "Hold", resume: "Resume", transfer: "Transfer",
  "target.agent": "to an agent", "target.queue": "to a queue", "target.number": "to a number", target: "Target",
  personalAgent: "Personal agent", unknownCaller: "Unknown caller", lastCalls: "Last calls",
  "phone.off": "Phone off", "phone.registering": "Phone connecting…", "phone.registered": "Phone ready",
  "phone.failed": "Phone refused: sign in again",
  "line.ringing": "ringing", "line.talking": "talking", "line.held": "on hold",
  "agent.ready": "Ready", "agent.not_ready": "Not ready", "agent.on_call": "On call", "agent.wrap_up": "Wrap-up",
  "agent.reserved": "Offered a call", "agent.logged_out": "Logged out",
  "call.created": "New", "call.ivr": "In the menu", "call.queued": "Waiting", "call.ringing": "Ringing",
  "call.connected": "Talking", "call.held": "On hold",
  "reason.break": "Break", "reason.lunch": "Lunch", "reason.training": "Training", "reason.meeting": "Meeting",
};
export type Key = keyof typeof en;
const ru: Record<Key, string> = {
  title: "Callisto", signIn: "Войти", signOut: "Выйти", username: "Имя пользователя", password: "Пароль",
  wrong: "Неверное имя или пароль", myState: "Мой статус", since: "уже", logIn: "Начать смену", ready: "Готов",
  notReady: "Не готов", logOut: "Завершить смену", reason: "Причина", myCalls: "Мои звонки", noCalls: "Звонков нет",
  agents: "Операторы", calls: "Звонки", agent: "Оператор", state: "Статус", caller: "Абонент", queue: "Очередь",
  connecting: "Подключение…", offline: "Связь потеряна: переподключение…", refused: "Сеанс завершён: войдите снова",
  loggedOut: "Смена не начата", phone: "Телефон", answer: "Ответить", decline: "Отклонить",
  hangUp: "Завершить", mute: "Выкл. микрофон", unmute: "Вкл. микрофон", keypad: "Клавиатура",
  hold: "Удержание", resume: "Снять с удержания", transfer: "Перевести", "target.agent": "оператору",
  "target.queue": "в очередь", "target.number": "на номер", target: "Куда", personalAgent: "Персональный оператор",
  unknownCaller: "Неизвестный абонент", lastCalls: "Последние звонки",
  "phone.off": "Телефон выключен", "phone.registering": "Телефон подключается…",
  "phone.registered": "Телефон готов", "phone.failed": "Телефон не принят: войдите снова",
  "line.ringing": "вызов", "line.talking": "разговор", "line.held": "на удержании",
  "agent.ready": "Готов", "agent.not_ready": "Не готов", "agent.on_call": "Разговор", "agent.wrap_up": "Постобработка",
  "agent.reserved": "Предложен звонок", "agent.logged_out": "Не в смене",
  "call.created": "Новый", "call.ivr": "В меню", "call.queued": "Ждёт", "call.ringing": "Вызов",
  "call.connected": "Разговор", "call.held": "На удержании",
  "reason.break": "Перерыв", "reason.lunch": "Обед", "reason.training": "Обучение", "reason.meeting": "Совещание",
};
const languages = { en, ru } as const;
export type Language = keyof typeof languages;

export let language: Language = localStorage.getItem("callisto.language") === "ru" ? "ru" : "en";

export function choose(next: Language): void {
  language = next;
  localStorage.setItem("callisto.language", next);
}

export function t(key: Key | string): string {
  return (languages[language] as Record<string, string>)[key] ?? key;
}
