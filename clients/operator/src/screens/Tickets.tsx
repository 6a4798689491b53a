// The ticket queue: my tickets, new ones nobody took, those breaching their SLA, everything open;
// most urgent first, each a link to the ticket's page; asked for again when the gateway tells of a
// ticket change.
import { useEffect, useState } from "preact/hooks";
import { ticketsOf, type Ticket } from "../desk";
import { t } from "../i18n";
import { href, VIEWS } from "../router";
import type { Session } from "../session";
import { Refusal, useAttempt } from "./refusal";

interface Props {
  session: Session;
  view: string;
  me: string;
  changes: number; // ticket changes the gateway told of: the list is asked for again
}

export function Tickets({ session, view, me, changes }: Props) {
  const [found, setFound] = useState<Ticket[] | null>(null);
  const [error, attempt] = useAttempt();
  useEffect(() => {
    setFound(null);
    void attempt(async () => setFound(await ticketsOf(session, view, me)));
  }, [view, me]);
  useEffect(() => {
    if (changes > 0) void ticketsOf(session, view, me).then(setFound).catch(() => undefined);
  }, [changes]);
  return (
    <section aria-labelledby="tickets">
      <h2 id="tickets">{t("tickets")}</h2>
      <nav class="tabs" aria-label={t("tickets")}>
        {VIEWS.map((v) => (
          <a href={href({ screen: "tickets", view: v })} aria-current={v === view ? "page" : undefined}>
            {t(`view.${v}`)}
          </a>
        ))}
      </nav>
      <Refusal error={error} />
      {found !== null && found.length === 0 && <p>{t("noTickets")}</p>}
      {found !== null && found.length > 0 && (
        <table data-testid="ticket-list">
          <thead>
            <tr>
              <th>#</th><th>{t("subject")}</th><th>{t("state")}</th><th>{t("priority")}</th>
              <th>{t("assignee")}</th><th>SLA</th><th>{t("due")}</th>
            </tr>
          </thead>
          <tbody>
            {found.map((ticket) => (
              <tr key={ticket.ticket_id} data-ticket={ticket.number}>
                <td><a href={href({ screen: "ticket", id: ticket.ticket_id })}>{ticket.number}</a></td>
                <td>{ticket.subject}</td>
                <td>{t(`ticket.${ticket.state}`)}</td>
                <td>P{ticket.priority}</td>
                <td>{ticket.assignee ?? "—"}</td>
                <td class={standing(ticket.sla_standing)}>{t(`sla.${ticket.sla_standing}`)}</td>
                <td>{ticket.resolution_due ? new Date(ticket.resolution_due).toLocaleString() : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function standing(sla: string): string {
  return sla === "breached" ? "red" : sla === "warning" ? "amber" : "green";
}
