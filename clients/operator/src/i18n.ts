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
  "reason.coaching": "Coaching", "reason.back_office": "Back-office work", "reason.login": "start of shift",
  "reason.missed": "missed a call", "reason.phone offline": "phone offline", defaultDevice: "Default device",
  wrapUp: "Wrap-up", left: "left", disposition: "How it ended", note: "Note", save: "Save", saved: "Saved",
  ticket: "Ticket", createTicket: "Create ticket", close: "Close", callbackAt: "Call back at",
  scheduleCallback: "Schedule callback", help: "Help", helpReason: "What do you need?", askHelp: "Ask a supervisor",
  helpWaiting: "Waiting for a supervisor", helpTaken: "Taken by", cancel: "Cancel", helpInbox: "Help requests",
  noHelp: "Nobody asks for help", accept: "Accept and listen", whisper: "Whisper", stopWhisper: "Stop whispering",
  done: "Done", queues: "Queues", wallboard: "Wallboard", figuresStale: "Figures are not live", waiting: "Waiting",
  longestWait: "Longest wait", serviceLevel: "Service level", staffed: "Staffed", answered: "Answered",
  change: "Change", apply: "Apply", handled: "Calls today", talkTime: "Talk time", occupancy: "Occupancy",
  consult: "Consult first", consulting: "Consulting", completeTransfer: "Complete transfer",
  backToCaller: "Back to the caller", crm: "Customer record", incoming: "Incoming call", ringOn: "Ring on", ivrChoices: "IVR", openTickets: "Open tickets",
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
  "reason.coaching": "Наставничество", "reason.back_office": "Бэк-офис", "reason.login": "начало смены",
  "reason.missed": "пропущен звонок", "reason.phone offline": "телефон не в сети", defaultDevice: "По умолчанию",
  wrapUp: "Постобработка", left: "осталось", disposition: "Результат", note: "Заметка", save: "Сохранить",
  saved: "Сохранено", ticket: "Заявка", createTicket: "Создать заявку", close: "Закрыть", callbackAt: "Перезвонить в",
  scheduleCallback: "Запланировать звонок", help: "Помощь", helpReason: "Что нужно?", askHelp: "Позвать супервизора",
  helpWaiting: "Ждём супервизора", helpTaken: "Взял", cancel: "Отменить", helpInbox: "Запросы помощи",
  noHelp: "Запросов нет", accept: "Принять и слушать", whisper: "Суфлировать", stopWhisper: "Прекратить суфлирование",
  done: "Готово", queues: "Очереди", wallboard: "Табло", figuresStale: "Показатели не обновляются", waiting: "Ждут",
  longestWait: "Дольше всех", serviceLevel: "Уровень сервиса", staffed: "В смене", answered: "Отвечено",
  change: "Изменить", apply: "Применить", handled: "Звонков сегодня", talkTime: "В разговоре", occupancy: "Занятость",
  consult: "Сначала посоветоваться", consulting: "Консультация с", completeTransfer: "Завершить перевод",
  backToCaller: "Вернуться к абоненту", crm: "Карточка клиента", incoming: "Входящий звонок", ringOn: "Звонок на", ivrChoices: "IVR", openTickets: "Открытые заявки",
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
