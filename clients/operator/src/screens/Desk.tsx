// The operator's panel: my state and how long I have been in it, the state buttons with the reasons
// queue-manager lists (it decides what is allowed; a refusal is shown as it came), my figures today
// (snitch), my calls, the wrap-up of my last call and help from a supervisor.
import { useEffect, useState } from "preact/hooks";
import { requestState } from "../actions";
import type { components } from "../api/snitch";
import { elapsed } from "../clock";
import { HINTS } from "../shortcuts";
import { t } from "../i18n";
import type { Live } from "../live";
import { usePolled } from "../polling";
import type { Session } from "../session";
import { Help } from "./Help";
import { reasonName, type Reason } from "./reasons";
import { Refusal, useAttempt } from "./refusal";
import { WrapUp } from "./WrapUp";

type AgentRow = components["schemas"]["AgentRow"];
const BUSY: string[] = ["reserved", "on_call"]; // a call decides what comes next (wrap-up)

interface Props {
  live: Live;
  session: Session;
  agentId: string;
  reasons: Reason[];
}

export function Desk({ live, session, agentId, reasons }: Props) {
  const [error, attempt] = useAttempt();
  const [reason, setReason] = useState("");
  const [wrapping, setWrapping] = useState<string | null>(null);
  const figures = usePolled<AgentRow>(session, "snitch", `v1/agents/${agentId}`, 10_000);
  const mine = live.mine();
  const calls = [...live.calls.values()].filter((c) => c.agent_id === agentId);
  const chosen = reason || reasons[0]?.code || "";
  useEffect(() => {
    if (mine?.state === "wrap_up" && mine.call_id) setWrapping(mine.call_id);
  }, [mine?.state, mine?.call_id]);

  const ask = (request: string, withReason = false) =>
    attempt(() => requestState(session, agentId, request, withReason ? chosen : undefined));

  return (
    <>
      <section aria-labelledby="my-state">
        <h2 id="my-state">{t("myState")}</h2>
        <div class="state" data-testid="my-state">
          {mine ? t(`agent.${mine.state}`) : t("loggedOut")}
          {mine && (
            <small>
              {t("since")} {elapsed(mine.since)}
            </small>
          )}
        </div>
        {mine?.reason && <div>{reasonName(mine.reason, reasons)}</div>}
        <div class="actions">
          {!mine && (
            <button class="primary" onClick={() => void ask("login")}>
              {t("logIn")}
            </button>
          )}
          {mine && !BUSY.includes(mine.state) && mine.state !== "ready" && (
            <button class="primary" onClick={() => void ask("ready")} title={HINTS.ready}>
              {t("ready")}
            </button>
          )}
          {mine && mine.state !== "not_ready" && (
            <>
              <select aria-label={t("reason")} value={chosen} onChange={(e) => setReason((e.target as HTMLSelectElement).value)}>
                {reasons.map((r) => (
                  <option value={r.code}>{reasonName(r.code, reasons)}</option>
                ))}
              </select>
              <button onClick={() => void ask("not_ready", true)}>{t("notReady")}</button>
            </>
          )}
          {mine && <button onClick={() => void ask("logout")}>{t("logOut")}</button>}
        </div>
        <Refusal error={error} />
        {figures && (
          <dl class="figures" data-testid="my-figures">
            <dt>{t("handled")}</dt>
            <dd>{figures.handled}</dd>
            <dt>{t("talkTime")}</dt>
            <dd>{Math.round((figures.seconds["on_call"] ?? 0) / 60)} min</dd>
            <dt>{t("occupancy")}</dt>
            <dd>{figures.occupancy === null ? "—" : `${Math.round(figures.occupancy * 100)} %`}</dd>
          </dl>
        )}
        <h2>{t("myCalls")}</h2>
        {calls.length === 0 ? (
          <p>{t("noCalls")}</p>
        ) : (
          <ul data-testid="my-calls">
            {calls.map((c) => (
              <li key={c.call_id}>
                {c.caller} · {t(`call.${c.state}`)} · {elapsed(c.since)}
              </li>
            ))}
          </ul>
        )}
      </section>
      {wrapping && (
        <WrapUp key={wrapping} live={live} session={session} agentId={agentId} callId={wrapping} done={() => setWrapping(null)} />
      )}
      <Help live={live} session={session} agentId={agentId} />
    </>
  );
}
