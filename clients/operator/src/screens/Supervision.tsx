// The supervisor's live view: every agent (state, time in it, current call) and every call.
import { elapsed } from "../clock";
import { t } from "../i18n";
import type { Live } from "../live";

export function Supervision({ live }: { live: Live }) {
  const agents = [...live.agents.values()].sort((a, b) => a.agent_id.localeCompare(b.agent_id));
  const calls = [...live.calls.values()].sort((a, b) => a.since.localeCompare(b.since));
  return (
    <>
      <section aria-labelledby="agents">
        <h2 id="agents">{t("agents")}</h2>
        <table data-testid="agents">
          <thead>
            <tr><th>{t("agent")}</th><th>{t("state")}</th><th>{t("since")}</th><th>{t("caller")}</th></tr>
          </thead>
          <tbody>
            {agents.map((a) => (
              <tr key={a.agent_id} data-agent={a.agent_id}>
                <td>{a.name || a.agent_id}</td>
                <td>{t(`agent.${a.state}`)}{a.reason ? ` (${t(`reason.${a.reason}`)})` : ""}</td>
                <td>{elapsed(a.since)}</td>
                <td>{a.call_id ? live.calls.get(a.call_id)?.caller ?? "" : ""}</td>
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
