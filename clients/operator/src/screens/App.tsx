// The shell: sign-in, then the operator's desk or the supervisor's view (by role), the link banner,
// language, ringtone device and sign-out. State lives in Session (tokens), Feed (the gateway's live
// state) and Phone (the browser phone). A session that expires during a call keeps the call: the
// phone stays until it ends, beside the sign-in form.
import { useEffect, useMemo, useReducer, useRef, useState } from "preact/hooks";
import { call } from "../api";
import type { components } from "../api/core-bus";
import { Feed } from "../feed";
import { choose, language, t, type Language } from "../i18n";
import { requestState, controlCall } from "../actions";
import type { HelpRequest } from "../live";
import { Phone } from "../phone";
import { askToNotify, notifyOffer, Ringer } from "../ringer";
import { shortcutOf } from "../shortcuts";
import { href, parse, ticketsOf, type Route } from "../router";
import { Session } from "../session";
import { ContactPage } from "./ContactPage";
import { Contacts } from "./Contacts";
import { TicketPage } from "./TicketPage";
import { Tickets } from "./Tickets";
import { CrmFeed, CrmFrame } from "./CrmFrame";
import { Desk } from "./Desk";
import { HelpInbox } from "./HelpInbox";
import { PhonePanel } from "./PhonePanel";
import { Reports } from "./Reports";
import type { Reason } from "./reasons";
import { Settings } from "./Settings";
import { SignIn } from "./SignIn";
import { Supervision } from "./Supervision";

type ClientSettings = components["schemas"]["ClientSettings"];

export function App() {
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const redraw = () => bump(undefined);
  const [signedIn, setSignedIn] = useState(false);
  const [settings, setSettings] = useState<ClientSettings | null>(null);
  const [reasons, setReasons] = useState<Reason[]>([]);
  const [route, setRoute] = useState<Route>(parse(location.hash));
  const feed = useMemo(() => new Feed(redraw), []);
  const phone = useMemo(() => new Phone(redraw), []);
  const ringer = useMemo(() => new Ringer(), []);
  const crm = useMemo(() => new CrmFeed(redraw), []);
  const phoneFor = useRef<string | null>(null); // whose phone was started
  const session = useMemo(
    () =>
      new Session((access, ended) => {
        if (access === null) {
          feed.stop();
          if (ended === "expired") phone.stopAfterCalls();
          else phone.stop();
          phoneFor.current = null;
          feed.live.me = null;
          setSignedIn(false);
        } else if (feed.live.me === null) {
          feed.start(access);
          setSignedIn(true);
          askToNotify();
        } else {
          feed.renew(access);
          phone.renew(access);
        }
      }),
    [],
  );
  const me = feed.live.me;
  const login = me?.login ?? "";
  const supervisor = feed.live.seesEveryone();
  useEffect(() => {
    // the phone registers once the gateway said who this is (a reload knows no login before)
    if (!login || phoneFor.current === login || !session.access) return;
    phoneFor.current = login;
    const token = session.access;
    void call<ClientSettings>("core-bus", "v1/client", { token })
      .then((told) => {
        setSettings(told);
        phone.start(told.sip_url, login, session.access ?? "");
      })
      .catch(() => (phoneFor.current = null));
    void call<Reason[]>("queue-manager", "v1/reasons", { token }).then(setReasons).catch(() => setReasons([]));
  }, [login]);
  useEffect(() => {
    // a supervisor's inbox: what is open now, then the gateway's events (again after each reconnect)
    if (!supervisor || feed.link !== "live") return;
    void call<HelpRequest[]>("queue-manager", "v1/help", { token: session.access })
      .then((found) => {
        feed.live.takeHelp(found);
        redraw();
      })
      .catch(() => undefined);
  }, [supervisor, feed.link]);
  useEffect(() => {
    phone.onLine = (step, line) => {
      if (step === "offered") notifyOffer(t("incoming"), line.from);
      if (line.callId) crm.step(`call.${step}`, line, feed.live.me?.agent_id ?? null, session);
    };
    const onKey = (event: KeyboardEvent) => {
      const shortcut = shortcutOf(event);
      if (shortcut === null) return;
      event.preventDefault();
      const ringing = phone.offered();
      const inCall = phone.lines.find((line) => !line.automatic && line.state !== "ringing");
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
    const follow = () => setRoute(parse(location.hash));
    addEventListener("hashchange", follow);
    return () => removeEventListener("hashchange", follow);
  }, []);
  useEffect(() => {
    void session.resume();
    const tick = setInterval(redraw, 1000); // times in state
    return () => clearInterval(tick);
  }, []);
  const offered = phone.offered();
  const ringing = offered !== undefined;
  useEffect(() => {
    if (ringing) void ringer.start();
    else ringer.stop();
  }, [ringing]);

  if (!signedIn)
    return (
      <>
        <SignIn session={session} />
        {phone.lines.length > 0 && (
          <main>
            <div class="side">
              <PhonePanel phone={phone} live={feed.live} session={session} ringer={ringer} />
            </div>
          </main>
        )}
      </>
    );
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
      {ringing && (
        <div class="banner offer" role="alert" data-testid="offer-toast">
          {t("incoming")}: {offered?.from}
        </div>
      )}
      <main>
        <div class="side">
          {me?.agent_id && <Desk live={feed.live} session={session} agentId={me.agent_id} reasons={reasons} />}
          <PhonePanel phone={phone} live={feed.live} session={session} ringer={ringer} />
        </div>
        <div class="main">
          <nav class="tabs" aria-label={t("screens")}>
            <a href={href({ screen: "home" })} aria-current={route.screen === "home" ? "page" : undefined}>
              {t(supervisor ? "live" : "crm")}
            </a>
            <a href={href(ticketsOf("mine"))} aria-current={route.screen.startsWith("ticket") ? "page" : undefined}>
              {t("tickets")}
            </a>
            <a href={href({ screen: "contacts", q: "" })} aria-current={route.screen.startsWith("contact") ? "page" : undefined}>
              {t("contacts")}
            </a>
            {supervisor && (
              <a href="#/reports" aria-current={route.screen === "reports" ? "page" : undefined}>
                {t("reports")}
              </a>
            )}
            {me?.roles.includes("administrator") && (
              <a href="#/settings" aria-current={route.screen === "settings" ? "page" : undefined}>
                {t("settings")}
              </a>
            )}
          </nav>
          {route.screen === "home" && supervisor && <HelpInbox live={feed.live} session={session} />}
          {route.screen === "home" && supervisor && (
            <Supervision live={feed.live} session={session} reasons={reasons} wallboard={settings?.wallboard_url ?? null} />
          )}
          {/* the CRM frame stays loaded on the other screens: it is told of every call */}
          {!supervisor && settings?.crm_url && (
            <div hidden={route.screen !== "home"}>
              <CrmFrame template={settings.crm_url} feed={crm} agentId={me?.agent_id ?? null} />
            </div>
          )}
          {route.screen === "tickets" && (
            <Tickets session={session} filter={route.filter} me={me?.agent_id ?? me?.login ?? ""} changes={feed.live.ticketChanges} />
          )}
          {route.screen === "ticket" && (
            <TicketPage
              session={session} id={route.id} me={me?.agent_id ?? me?.login ?? ""}
              changed={feed.live.ticketSeen.get(route.id)} online={feed.link === "live"}
            />
          )}
          {route.screen === "contacts" && <Contacts key={route.q} session={session} q={route.q} />}
          {route.screen === "contact" && <ContactPage session={session} id={route.id} />}
          {route.screen === "reports" && <Reports session={session} choice={route.choice} />}
          {route.screen === "settings" && <Settings session={session} />}
        </div>
      </main>
    </>
  );
}
