// The supervisor's help inbox: requests oldest first with their level; accepting one about a call
// starts listening to it on this browser's phone (the session answers by itself), then whispering to
// the agent is a button away; closing ends listening too.
import { useState } from "preact/hooks";
import { acceptHelp, closeHelp, listen, stopListening, whisper, type Listener } from "../actions";
import { elapsed } from "../clock";
import { t } from "../i18n";
import type { HelpRequest, Live } from "../live";
import type { Session } from "../session";
import { Refusal, useAttempt } from "./refusal";

export function HelpInbox({ live, session }: { live: Live; session: Session }) {
  const [listeners, setListeners] = useState<Record<string, Listener>>({});
  const [error, attempt] = useAttempt();
  const me = live.me;
  const requests = [...live.help.values()].sort((a, b) => a.raised_at.localeCompare(b.raised_at));

  const keep = (id: string, listener: Listener | null) =>
    setListeners((all) => {
      const next = { ...all };
      if (listener) next[id] = listener;
      else delete next[id];
      return next;
    });

  const accept = (request: HelpRequest) =>
    attempt(async () => {
      if (!me) return;
      await acceptHelp(session, request.request_id, me.agent_id ?? me.login);
      if (request.call_id && live.calls.has(request.call_id)) keep(request.request_id, await listen(session, request.call_id, me.login));
    });
  const close = (request: HelpRequest) =>
    attempt(async () => {
      const listener = listeners[request.request_id];
      if (listener) await stopListening(session, listener).catch(() => undefined);
      keep(request.request_id, null);
      await closeHelp(session, request.request_id);
    });

  return (
    <section aria-labelledby="help-inbox">
      <h2 id="help-inbox">{t("helpInbox")}</h2>
      {requests.length === 0 && <p>{t("noHelp")}</p>}
      <ul class="inbox" data-testid="help-inbox">
        {requests.map((request) => {
          const agent = live.agents.get(request.agent_id);
          const listener = listeners[request.request_id];
          const caller = request.call_id ? live.calls.get(request.call_id)?.caller : undefined;
          return (
            <li key={request.request_id} data-request={request.request_id} data-state={request.state}>
              <strong>{agent?.name || request.agent_id}</strong> · {request.reason} · {elapsed(request.raised_at)}
              {request.level > 1 && <span class="vip">L{request.level}</span>}
              {caller && <div>{t("caller")}: {caller}</div>}
              {request.state === "accepted" && <div>{t("helpTaken")} {request.supervisor_id}</div>}
              <div class="actions">
                {request.state === "open" && (
                  <button class="primary" onClick={() => void accept(request)}>
                    {t("accept")}
                  </button>
                )}
                {listener && (
                  <button
                    aria-pressed={listener.mode === "whispering"}
                    onClick={() => void attempt(async () => keep(request.request_id, await whisper(session, listener, listener.mode !== "whispering")))}
                  >
                    {t(listener.mode === "whispering" ? "stopWhisper" : "whisper")}
                  </button>
                )}
                {request.state === "accepted" && <button onClick={() => void close(request)}>{t("done")}</button>}
              </div>
            </li>
          );
        })}
      </ul>
      <Refusal error={error} />
    </section>
  );
}
