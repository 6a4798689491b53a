// The operator's panel: my state and how long I have been in it, the state buttons (queue-manager
// decides what is allowed; a refusal is shown as it came), my calls.
import { useState } from "preact/hooks";
import { requestState } from "../actions";
import { Problem } from "../api";
import { elapsed } from "../clock";
import { HINTS } from "../shortcuts";
import { t } from "../i18n";
import type { Live } from "../live";
import type { Session } from "../session";

const REASONS = ["break", "lunch", "training", "meeting"];
const BUSY: string[] = ["reserved", "on_call"]; // a call decides what comes next (wrap-up)

export function Desk({ live, session, agentId }: { live: Live; session: Session; agentId: string }) {
  const [error, setError] = useState("");
  const [reason, setReason] = useState(REASONS[0]!);
  const mine = live.mine();
  const calls = [...live.calls.values()].filter((c) => c.agent_id === agentId);

  async function ask(request: string, withReason = false) {
    setError("");
    try {
      await requestState(session, agentId, request, withReason ? reason : undefined);
    } catch (failure) {
      setError(failure instanceof Problem ? failure.message : String(failure));
    }
  }

  return (
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
      {mine?.reason && <div>{t(`reason.${mine.reason}`)}</div>}
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
            <select aria-label={t("reason")} value={reason} onChange={(e) => setReason((e.target as HTMLSelectElement).value)}>
              {REASONS.map((r) => (
                <option value={r}>{t(`reason.${r}`)}</option>
              ))}
            </select>
            <button onClick={() => void ask("not_ready", true)}>{t("notReady")}</button>
          </>
        )}
        {mine && <button onClick={() => void ask("logout")}>{t("logOut")}</button>}
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
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
  );
}
