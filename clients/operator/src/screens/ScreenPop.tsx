// The screen pop: who is calling (helpdesk's contact by the caller's number: name, organisation, VIP,
// personal agent) and their last calls, shown while the line rings, before it is answered.
import { useEffect, useState } from "preact/hooks";
import { call } from "../api";
import type { components } from "../api/helpdesk";
import { t } from "../i18n";
import type { Session } from "../session";

type ContactMatch = components["schemas"]["ContactMatch"];
type CallCard = components["schemas"]["CallCard"];

export function ScreenPop({ number, session }: { number: string; session: Session }) {
  const [match, setMatch] = useState<ContactMatch | null>(null);
  const [history, setHistory] = useState<CallCard[]>([]);
  useEffect(() => {
    const token = session.access;
    const query = encodeURIComponent(number);
    void call<ContactMatch>("helpdesk", `v1/contacts/lookup?number=${query}`, { token })
      .then(setMatch)
      .catch(() => setMatch(null));
    void call<CallCard[]>("helpdesk", `v1/call-cards?number=${query}&limit=5`, { token })
      .then(setHistory)
      .catch(() => setHistory([]));
  }, [number]);
  const contact = match?.contact;
  return (
    <div class="card" data-testid="screen-pop">
      {contact ? (
        <>
          <div class="name">
            {contact.name}
            {contact.vip && <span class="vip">VIP</span>}
          </div>
          {contact.personal_agent_id && (
            <div>
              {t("personalAgent")}: {contact.personal_agent_id}
            </div>
          )}
        </>
      ) : (
        <div class="name">{t("unknownCaller")}</div>
      )}
      {history.length > 0 && (
        <ul class="history" aria-label={t("lastCalls")}>
          {history.map((card) => (
            <li key={card.call_id}>
              {new Date(card.started_at).toLocaleString()} · {card.outcome ?? card.state}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
