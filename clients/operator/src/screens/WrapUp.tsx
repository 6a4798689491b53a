// Wrap-up of my last call: the time left (the queue's wrap_up_s), a disposition from the queue's
// codes, a note, a ticket opened from the call (helpdesk fills in caller, contact and IVR input) and a
// callback promised to the caller. It stays until saved or put away, also after wrap-up ended.
import { useEffect, useState } from "preact/hooks";
import { dispose, scheduleCallback, ticketFromCall } from "../actions";
import { call } from "../api";
import type { components } from "../api/queue-manager";
import { t } from "../i18n";
import type { Live } from "../live";
import type { Session } from "../session";
import { Refusal, useAttempt } from "./refusal";

type Queue = components["schemas"]["QueueConfig"];

interface Props {
  live: Live;
  session: Session;
  agentId: string;
  callId: string;
  done: () => void;
}

export function WrapUp({ live, session, agentId, callId, done }: Props) {
  const [queues, setQueues] = useState<Queue[]>([]);
  const [disposition, setDisposition] = useState("");
  const [note, setNote] = useState("");
  const [said, setSaid] = useState("");
  const [ticket, setTicket] = useState("");
  const [callbackAt, setCallbackAt] = useState("");
  const [error, attempt] = useAttempt();
  useEffect(() => {
    void call<Queue[]>("queue-manager", "v1/queues", { token: session.access }).then(setQueues).catch(() => setQueues([]));
  }, []);
  const ended = live.recent.get(callId) ?? live.calls.get(callId);
  const queue = queues.find((q) => q.id === ended?.queue_id);
  const codes = queue?.dispositions ?? [];
  const mine = live.mine();
  const until = mine?.state === "wrap_up" && mine.call_id === callId ? mine.until : null;
  const left = until ? Math.max(0, Math.round((Date.parse(until) - Date.now()) / 1000)) : null;

  const save = () =>
    attempt(async () => {
      await dispose(session, agentId, callId, disposition || null, note);
      setSaid(disposition || "-");
    });
  const openTicket = () =>
    attempt(async () => {
      const opened = await ticketFromCall(session, callId, note);
      setTicket(`#${opened.number}`);
    });
  const promiseCallback = () =>
    attempt(async () => {
      if (!ended?.queue_id || !ended.caller) return;
      await scheduleCallback(session, ended.queue_id, ended.caller, new Date(callbackAt));
      setCallbackAt("");
      setSaid((before) => before || "-");
    });

  return (
    <section aria-labelledby="wrap-up" data-testid="wrap-up">
      <h2 id="wrap-up">
        {t("wrapUp")} {left !== null && <small data-testid="wrap-up-left">{t("left")} {left} s</small>}
      </h2>
      <div>
        {ended?.caller ?? ""} {queue ? `· ${queue.name || queue.id}` : ""}
      </div>
      <form
        class="wrap"
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <label>
          {t("disposition")}
          <select
            name="disposition"
            value={disposition}
            required={codes.length > 0}
            onChange={(e) => setDisposition((e.target as HTMLSelectElement).value)}
          >
            <option value="">—</option>
            {codes.map((c) => (
              <option value={c.code}>{c.name || c.code}</option>
            ))}
          </select>
        </label>
        <label>
          {t("note")}
          <textarea name="note" rows={3} maxLength={2000} value={note} onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
        </label>
        <div class="actions">
          <button class="primary" type="submit">
            {t("save")}
          </button>
          <button type="button" onClick={() => void openTicket()} disabled={ticket !== ""}>
            {ticket ? `${t("ticket")} ${ticket}` : t("createTicket")}
          </button>
          <button type="button" onClick={done}>
            {t("close")}
          </button>
        </div>
        <div class="actions">
          <label>
            {t("callbackAt")}
            <input type="datetime-local" value={callbackAt} onInput={(e) => setCallbackAt((e.target as HTMLInputElement).value)} />
          </label>
          <button type="button" disabled={!callbackAt || !ended?.caller} onClick={() => void promiseCallback()}>
            {t("scheduleCallback")}
          </button>
        </div>
      </form>
      {said && (
        <p role="status" data-testid="wrap-up-saved">
          {t("saved")}
        </p>
      )}
      <Refusal error={error} />
    </section>
  );
}
