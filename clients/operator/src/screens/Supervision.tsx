// The supervisor's live view: queues (waiting, longest wait, service level, from snitch), every agent
// (state, time in it, current call, queues) with a state change for them (queue-manager names the
// supervisor in the event: the audit trail), every call, and a link to the wallboard.
import { useState } from "preact/hooks";
import { requestState } from "../actions";
import type { components } from "../api/snitch";
import { elapsed } from "../clock";
import { t } from "../i18n";
import type { AgentEntry, Live } from "../live";
import { usePolled } from "../polling";
import type { Session } from "../session";
import { reasonName, type Reason } from "./reasons";
import { useAttempt } from "./refusal";

type Everything = components["schemas"]["Everything"];

interface Props {
  live: Live;
  session: Session;
  reasons: Reason[];
  wallboard: string | null;
}

export function Supervision({ live, session, reasons, wallboard }: Props) {
  const figures = usePolled<Everything>(session, "snitch", "v1/kpis", 2000);
  const agents = [...live.agents.values()].sort((a, b) => a.agent_id.localeCompare(b.agent_id));
  const calls = [...live.calls.values()].sort((a, b) => a.since.localeCompare(b.since));
  const queues = Object.entries(figures?.queues ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <section aria-labelledby="queues">
        <h2 id="queues">
          {t("queues")} {wallboard && <a href={wallboard} target="_blank" rel="noopener">{t("wallboard")}</a>}
        </h2>
        {figures && !figures.live && <p class="error">{t("figuresStale")}</p>}
        <table data-testid="queues">
          <thead>
            <tr><th>{t("queue")}</th><th>{t("waiting")}</th><th>{t("longestWait")}</th><th>{t("serviceLevel")}</th><th>{t("staffed")}</th><th>{t("answered")}</th></tr>
          </thead>
          <tbody>
            {queues.map(([id, q]) => (
              <tr key={id} data-queue={id}>
                <td>{q.name || id}</td><td>{q.waiting}</td><td>{Math.round(q.longest_wait_s)} s</td>
                <td class={q.colours["service_level"] ?? ""}>{q.service_level === null ? "—" : `${Math.round(q.service_level * 100)} %`}</td>
                <td>{q.staffed}</td><td>{q.answered}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="agents">
        <h2 id="agents">{t("agents")}</h2>
        <table data-testid="agents">
          <thead>
            <tr><th>{t("agent")}</th><th>{t("state")}</th><th>{t("since")}</th><th>{t("caller")}</th><th>{t("change")}</th></tr>
          </thead>
          <tbody>
            {agents.map((a) => (
              <tr key={a.agent_id} data-agent={a.agent_id}>
                <td>{a.name || a.agent_id}</td>
                <td>{t(`agent.${a.state}`)}{a.reason ? ` (${reasonName(a.reason, reasons)})` : ""}</td>
                <td>{elapsed(a.since)}</td>
                <td>{a.call_id ? live.calls.get(a.call_id)?.caller ?? "" : ""}</td>
                <td><ChangeState agent={a} session={session} reasons={reasons} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="calls">
        <h2 id="calls">{t("calls")}</h2>
        <table data-testid="calls">
          <thead>
            <tr><th>{t("caller")}</th><th>{t("state")}</th><th>{t("queue")}</th><th>{t("agent")}</th><th>{t("since")}</th></tr>
          </thead>
          <tbody>
            {calls.map((c) => (
              <tr key={c.call_id}>
                <td>{c.caller}</td><td>{t(`call.${c.state}`)}</td><td>{c.queue_id ?? ""}</td>
                <td>{c.agent_id ?? ""}</td><td>{elapsed(c.since)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}

function ChangeState({ agent, session, reasons }: { agent: AgentEntry; session: Session; reasons: Reason[] }) {
  const [choice, setChoice] = useState("");
  const [error, attempt] = useAttempt();
  const apply = () =>
    attempt(async () => {
      const [request, reason] = choice.startsWith("not_ready:") ? ["not_ready", choice.slice(10)] : [choice, undefined];
      await requestState(session, agent.agent_id, request!, reason);
      setChoice("");
    });

  return (
    <form class="inline" onSubmit={(e) => { e.preventDefault(); void apply(); }}>
      <select aria-label={`${t("change")} ${agent.name || agent.agent_id}`} value={choice} onChange={(e) => setChoice((e.target as HTMLSelectElement).value)}>
        <option value="">—</option>
        <option value="ready">{t("ready")}</option>
        {reasons.map((r) => (
          <option value={`not_ready:${r.code}`}>{t("notReady")}: {reasonName(r.code, reasons)}</option>
        ))}
        <option value="logout">{t("logOut")}</option>
      </select>
      <button type="submit" disabled={!choice}>{t("apply")}</button>
      {error && <span class="error" role="alert">{error}</span>}
    </form>
  );
}
