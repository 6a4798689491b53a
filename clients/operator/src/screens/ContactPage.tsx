// A contact: numbers, e-mails, VIP, personal manager, attributes, and their calls and tickets in one
// timeline (a call's disposition and recording, a ticket's state), newest first.
import { useEffect, useState } from "preact/hooks";
import { contact as fetchContact, timeline, type Contact } from "../desk";
import { t } from "../i18n";
import { href } from "../router";
import type { Session } from "../session";
import { CallRecording } from "./RecordingPlayer";
import { Refusal, useAttempt } from "./refusal";

type Entry = Awaited<ReturnType<typeof timeline>>[number];

export function ContactPage({ session, id }: { session: Session; id: string }) {
  const [found, setFound] = useState<Contact | null>(null);
  const [entries, setEntries] = useState<Entry[]>([]);
  const [error, attempt] = useAttempt();
  useEffect(() => {
    void attempt(async () => {
      setFound(await fetchContact(session, id));
      setEntries(await timeline(session, id));
    });
  }, [id]);
  if (found === null) return <Refusal error={error} />;
  return (
    <section aria-labelledby="contact" data-testid="contact">
      <h2 id="contact">
        {found.name} {found.vip && <span class="vip">VIP</span>}
      </h2>
      <dl class="figures">
        {found.organisation && (
          <>
            <dt>{t("organisation")}</dt>
            <dd>{found.organisation}</dd>
          </>
        )}
        <dt>{t("numbers")}</dt>
        <dd>{found.phones.map((p) => `${p.number}${p.label ? ` (${p.label})` : ""}`).join(", ") || "—"}</dd>
        <dt>{t("emails")}</dt>
        <dd>{found.emails.join(", ") || "—"}</dd>
        <dt>{t("personalAgent")}</dt>
        <dd>{found.personal_agent_id ?? "—"}</dd>
        {Object.entries(found.attributes).map(([key, value]) => (
          <>
            <dt>{key}</dt>
            <dd>{value}</dd>
          </>
        ))}
      </dl>
      <Refusal error={error} />
      <h3>{t("timeline")}</h3>
      <ol class="history" data-testid="timeline">
        {entries.map((entry) =>
          entry.card ? (
            <li key={`c${entry.card.call_id}`}>
              {new Date(entry.at).toLocaleString()} · {t("call")} · {entry.card.outcome ?? entry.card.state}
              {entry.card.disposition ? ` · ${entry.card.disposition}` : ""}
              {entry.card.talk_s !== null ? ` · ${Math.round(entry.card.talk_s)} s` : ""}
              {entry.card.recording_id && <CallRecording session={session} callId={entry.card.call_id} />}
            </li>
          ) : (
            <li key={`t${entry.ticket!.ticket_id}`}>
              {new Date(entry.at).toLocaleString()} ·{" "}
              <a href={href({ screen: "ticket", id: entry.ticket!.ticket_id })}>
                #{entry.ticket!.number} {entry.ticket!.subject}
              </a>{" "}
              · {t(`ticket.${entry.ticket!.state}`)}
            </li>
          ),
        )}
      </ol>
    </section>
  );
}
