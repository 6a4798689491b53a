// The shell: sign-in, then the operator's desk or the supervisor's view (by role), the link banner,
// language and sign-out. State lives in Session (tokens) and Feed (the gateway's live state).
import { useEffect, useMemo, useReducer, useRef, useState } from "preact/hooks";
import { call } from "../api";
import type { components } from "../api/core-bus";
import { Feed } from "../feed";
import { choose, language, t, type Language } from "../i18n";
import { requestState, controlCall } from "../actions";
import { Phone } from "../phone";
import { shortcutOf } from "../shortcuts";
import { Session } from "../session";
import { Desk } from "./Desk";
import { PhonePanel } from "./PhonePanel";
import { SignIn } from "./SignIn";
import { Supervision } from "./Supervision";

export function App() {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const redraw = () => bump(undefined);
  const [signedIn, setSignedIn] = useState(false);
  const feed = useMemo(() => new Feed(redraw), []);
  const phone = useMemo(() => new Phone(redraw), []);
  const phoneFor = useRef<string | null>(null); // whose phone was started
  const session = useMemo(
    () =>
      new Session((access) => {
        if (access === null) {
          feed.stop();
          phone.stop();
          phoneFor.current = null;
          feed.live.me = null;
          setSignedIn(false);
        } else if (feed.live.me === null) {
          feed.start(access);
          setSignedIn(true);
        } else {
          feed.renew(access);
          phone.renew(access);
        }
      }),
    [],
  );
  const login = feed.live.me?.login ?? "";
  useEffect(() => {
    // the phone registers once the gateway said who this is (a reload knows no login before)
    if (!login || phoneFor.current === login || !session.access) return;
    phoneFor.current = login;
    void call<components["schemas"]["ClientSettings"]>("core-bus", "v1/client", { token: session.access })
      .then((settings) => phone.start(settings.sip_url, login, session.access ?? ""))
      .catch(() => (phoneFor.current = null));
  }, [login]);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const shortcut = shortcutOf(event);
      if (shortcut === null) return;
      event.preventDefault();
      const mine = phone.lines.filter((line) => !line.automatic);
      const ringing = mine.find((line) => line.state === "ringing");
      const inCall = mine.find((line) => line.state !== "ringing");
      const agentId = feed.live.me?.agent_id;
      if (shortcut === "answer" && ringing) phone.answer(ringing);
      const current = inCall ?? ringing;
      if (shortcut === "hangUp" && current) phone.hangUp(current);
      if (shortcut === "hold" && inCall?.callId) {
        const held = feed.live.calls.get(inCall.callId)?.state === "held";
        void controlCall(session, inCall.callId, held ? "unhold" : "hold").catch(() => undefined);
      }
      if (shortcut === "ready" && agentId) void requestState(session, agentId, "ready").catch(() => undefined);
    };
    addEventListener("keydown", onKey);
    return () => removeEventListener("keydown", onKey);
  }, []);
  useEffect(() => {
    void session.resume();
    const tick = setInterval(redraw, 1000); // times in state
    return () => clearInterval(tick);
  }, []);

  if (!signedIn) return <SignIn session={session} />;
  const me = feed.live.me;
  const supervisor = me?.roles.some((r) => r === "supervisor" || r === "administrator") ?? false;
  return (
    <>
      <header>
        <strong>{t("title")}</strong>
        <span class="who" data-testid="who" title={me?.name ?? ""}>
          {me?.login || me?.subject || ""}
        </span>
        <select
          aria-label="language"
          value={language}
          onChange={(e) => {
            choose((e.target as HTMLSelectElement).value as Language);
            redraw();
          }}
        >
          <option value="en">EN</option>
          <option value="ru">RU</option>
        </select>
        <button onClick={() => void session.signOut()}>{t("signOut")}</button>
      </header>
      {feed.link !== "live" && (
        <div class={`banner ${feed.link}`} role="status" data-testid="link">
          {t(feed.link)}
        </div>
      )}
      <main class={supervisor ? "wide" : ""}>
        <div class="side">
          {me?.agent_id && <Desk live={feed.live} session={session} agentId={me.agent_id} />}
          <PhonePanel phone={phone} live={feed.live} session={session} />
        </div>
        {supervisor && <Supervision live={feed.live} />}
      </main>
    </>
  );
}
