// The screen pop: who is calling (helpdesk's contact by the caller's number: name, organisation, VIP,
// personal agent), what they chose in the IVR, their open tickets and their last calls, shown while
// the line rings, before it is answered.
import { useEffect, useState } from "preact/hooks";
import { call } from "../api";
import type { components } from "../api/helpdesk";
import { t } from "../i18n";
import type { Session } from "../session";

type ContactMatch = components["schemas"]["ContactMatch"];
type CallCard = components["schemas"]["CallCard"];
type Ticket = components["schemas"]["Ticket"];
const DONE = ["resolved", "closed"];

interface Props {
  number: string;
  callId: string | null;
  known: { name: string } | null; // the name the INVITE carried: painted before any lookup
  session: Session;
}

export function ScreenPop({ number, callId, known, session }: Props) {
  const [match, setMatch] = useState<ContactMatch | null>(null);
  const [history, setHistory] = useState<CallCard[]>([]);
  const [tickets, setTickets] = useState<Ticket[]>([]);
  const [ivr, setIvr] = useState<Record<string, string>>({});
  useEffect(() => {
    const token = session.access;
    const query = encodeURIComponent(number);
    void call<ContactMatch>("helpdesk", `v1/contacts/lookup?number=${query}`, { token })
      .then((found) => {
        setMatch(found);
        const contact = found.contact?.contact_id;
        if (contact)
          void call<Ticket[]>("helpdesk", `v1/tickets?contact_id=${contact}&limit=20`, { token })
            .then((all) => setTickets(all.filter((ticket) => !DONE.includes(ticket.state))))
            .catch(() => setTickets([]));
      })
      .catch(() => setMatch(null));
    void call<CallCard[]>("helpdesk", `v1/call-cards?number=${query}&limit=6`, { token })
      .then((cards) => setHistory(cards.filter((card) => card.call_id !== callId).slice(0, 5)))
      .catch(() => setHistory([]));
    if (callId)
      void call<CallCard>("helpdesk", `v1/call-cards/${callId}`, { token })
        .then((card) => setIvr(card.ivr))
        .catch(() => setIvr({}));
  }, [number, callId]);
  const contact = match?.contact;
  const choices = Object.entries(ivr);
  return (
    <div class="card" data-testid="screen-pop">
      {contact ? (
        <>
          <div class="name">
            {contact.name}
            {contact.vip && <span class="vip">VIP</span>}
          </div>
          {contact.organisation && <div>{contact.organisation}</div>}
          {contact.personal_agent_id && (
            <div>
              {t("personalAgent")}: {contact.personal_agent_id}
            </div>
          )}
        </>
      ) : (
        <div class="name">{known?.name ?? t("unknownCaller")}</div>
      )}
      {choices.length > 0 && (
        <div data-testid="ivr-choices">
          {t("ivrChoices")}: {choices.map(([step, digits]) => `${step} ${digits}`).join(", ")}
        </div>
      )}
      {tickets.length > 0 && (
        <ul class="history" aria-label={t("openTickets")} data-testid="open-tickets">
          {tickets.map((ticket) => (
            <li key={ticket.ticket_id}>
              #{ticket.number} {ticket.subject} · {ticket.state}
            </li>
          ))}
        </ul>
      )}
      {history.length > 0 && (
        <ul class="history" aria-label={t("lastCalls")}>
          {history.map((card) => (
            <li key={card.call_id}>
              {new Date(card.started_at).toLocaleString()} · {card.outcome ?? card.state}
              {card.disposition ? ` · ${card.disposition}` : ""}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
