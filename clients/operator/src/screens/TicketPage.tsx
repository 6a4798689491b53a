// One ticket: what it is about, where it stands against its SLA, the lifecycle actions helpdesk
// allows in its state (and no others), comments (public for the customer, internal otherwise), the
// history, and the call and contact it came from. A change someone else made shows in place: the
// gateway says the ticket changed, the page asks helpdesk again (and after each reconnect).
import { useEffect, useState } from "preact/hooks";
import { act, comment, ticket as fetchTicket, type Ticket } from "../desk";
import { t } from "../i18n";
import { href } from "../router";
import type { Session } from "../session";
import { Attachments } from "./Attachments";
import { CallRecording } from "./RecordingPlayer";
import { Refusal, useAttempt } from "./refusal";
import { SlaClocks } from "./SlaClocks";
import { TicketCorrection } from "./TicketCorrection";
import { standing } from "./Tickets";

interface Props {
  session: Session;
  id: string;
  me: string;
  changed: number | undefined; // the gateway's count of this ticket's last change
  online: boolean;
}

export function TicketPage({ session, id, me, changed, online }: Props) {
  const [found, setFound] = useState<Ticket | null>(null);
  const [body, setBody] = useState("");
  const [isPublic, setPublic] = useState(false);
  const [assignee, setAssignee] = useState(me);
  const [error, attempt] = useAttempt();
  useEffect(() => {
    void attempt(async () => setFound(await fetchTicket(session, id)));
  }, [id, changed, online]);
  if (found === null) return <Refusal error={error} />;
  const again = async () => setFound(await fetchTicket(session, id)); // with comments, history and SLA

  const perform = (action: string) =>
    attempt(async () => {
      const extra: Record<string, string> =
        action === "assign" ? { assignee } : action === "pend" ? { pending_on: "customer" } : {};
      await act(session, id, action, extra);
      await again();
    });
  const say = (e: Event) => {
    e.preventDefault();
    void attempt(async () => {
      await comment(session, id, body, isPublic);
      setBody("");
      await again();
    });
  };

  return (
    <section aria-labelledby="ticket" data-testid="ticket" data-state={found.state}>
      <h2 id="ticket">
        #{found.number} {found.subject}
      </h2>
      <dl class="figures">
        <dt>{t("state")}</dt>
        <dd data-testid="ticket-state">{t(`ticket.${found.state}`)}{found.pending_on ? ` (${found.pending_on})` : ""}</dd>
        <dt>{t("priority")}</dt>
        <dd>P{found.priority} ({t("urgency")} {found.urgency}, {t("impact")} {found.impact})</dd>
        <dt>{t("category")}</dt>
        <dd>{found.category_id ?? "—"} · {found.department}</dd>
        <dt>{t("assignee")}</dt>
        <dd>{found.assignee ?? "—"}</dd>
        <dt>SLA</dt>
        <dd class={standing(found.sla_standing)} data-testid="ticket-sla">
          {t(`sla.${found.sla_standing}`)}
          {found.response_due && ` · ${t("respondBy")} ${new Date(found.response_due).toLocaleString()}`}
          {found.resolution_due && ` · ${t("resolveBy")} ${new Date(found.resolution_due).toLocaleString()}`}
          <SlaClocks sla={found.sla} />
        </dd>
        {found.confirm_by && (
          <>
            <dt>{t("confirmBy")}</dt>
            <dd>{new Date(found.confirm_by).toLocaleString()}</dd>
          </>
        )}
        {found.contact_id && (
          <>
            <dt>{t("contact")}</dt>
            <dd><a href={href({ screen: "contact", id: found.contact_id })}>{t("openContact")}</a></dd>
          </>
        )}
      </dl>
      {found.description && <p class="description">{found.description}</p>}
      {found.call_id && <CallRecording session={session} callId={found.call_id} />}
      <div class="actions" role="group" aria-label={t("ticketActions")}>
        {found.actions.includes("assign") && (
          <input aria-label={t("assignee")} value={assignee} maxLength={100} onInput={(e) => setAssignee((e.target as HTMLInputElement).value)} />
        )}
        {found.actions.filter((a) => a !== "merge").map((action) => (
          <button onClick={() => void perform(action)}>{t(`action.${action}`)}</button>
        ))}
      </div>
      <TicketCorrection session={session} ticket={found} attempt={attempt} changed={again} />
      <Refusal error={error} />
      <Attachments session={session} ticket={found} attempt={attempt} changed={again} />
      <h3>{t("comments")}</h3>
      <ul class="comments" data-testid="comments">
        {found.comments.map((c) => (
          <li class={c["public"] ? "public" : "internal"}>
            <small>{String(c["author"] ?? "")} · {new Date(String(c["created_at"] ?? "")).toLocaleString()} · {t(c["public"] ? "public" : "internal")}</small>
            <div>{String(c["body"] ?? "")}</div>
          </li>
        ))}
      </ul>
      <form class="wrap" onSubmit={say}>
        <textarea aria-label={t("comment")} rows={3} required maxLength={20000} value={body} onInput={(e) => setBody((e.target as HTMLTextAreaElement).value)} />
        <label class="inline">
          <input type="checkbox" checked={isPublic} onChange={(e) => setPublic((e.target as HTMLInputElement).checked)} /> {t("publicComment")}
        </label>
        <div class="actions"><button type="submit">{t("addComment")}</button></div>
      </form>
      <h3>{t("history")}</h3>
      <ol class="history">
        {found.history.map((h) => (
          <li>
            {new Date(String(h["at"] ?? "")).toLocaleString()} · {String(h["action"] ?? "")}
            {h["to_state"] ? ` → ${t(`ticket.${String(h["to_state"])}`)}` : ""} · {String(h["actor"] ?? "")}
          </li>
        ))}
      </ol>
    </section>
  );
}
