// The shell: sign-in, then the operator's desk or the supervisor's view (by role), the link banner,
// language and sign-out. State lives in Session (tokens) and Feed (the gateway's live state).
import { useEffect, useMemo, useReducer, useState } from "preact/hooks";
import { Feed } from "../feed";
import { choose, language, t, type Language } from "../i18n";
import { Session } from "../session";
import { Desk } from "./Desk";
import { SignIn } from "./SignIn";
import { Supervision } from "./Supervision";

export function App() {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const redraw = () => bump(undefined);
  const [signedIn, setSignedIn] = useState(false);
  const feed = useMemo(() => new Feed(redraw), []);
  const session = useMemo(
    () =>
      new Session((access) => {
        if (access === null) {
          feed.stop();
          setSignedIn(false);
        } else if (feed.live.me === null) {
          feed.start(access);
          setSignedIn(true);
        } else {
          feed.renew(access);
        }
      }),
    [],
  );
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
        {me?.agent_id && <Desk live={feed.live} session={session} agentId={me.agent_id} />}
        {supervisor && <Supervision live={feed.live} />}
      </main>
    </>
  );
}
