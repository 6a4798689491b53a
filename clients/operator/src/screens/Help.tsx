// Asking a supervisor for help (about my current call when there is one), withdrawing the request
// while nobody took it, and seeing who took it.
import { useState } from "preact/hooks";
import { cancelHelp, raiseHelp } from "../actions";
import { t } from "../i18n";
import type { Live } from "../live";
import type { Session } from "../session";
import { Refusal, useAttempt } from "./refusal";

export function Help({ live, session, agentId }: { live: Live; session: Session; agentId: string }) {
  const [reason, setReason] = useState("");
  const [error, attempt] = useAttempt();
  const mine = live.myHelp();
  const current = live.mine()?.call_id ?? null;

  return (
    <section aria-labelledby="help">
      <h2 id="help">{t("help")}</h2>
      {mine ? (
        <div data-testid="my-help" data-state={mine.state}>
          {mine.state === "open" ? t("helpWaiting") : `${t("helpTaken")} ${mine.supervisor_id ?? ""}`} · {mine.reason}
          {mine.state === "open" && (
            <div class="actions">
              <button onClick={() => void attempt(() => cancelHelp(session, agentId, mine.request_id))}>{t("cancel")}</button>
            </div>
          )}
        </div>
      ) : (
        <form
          class="actions"
          onSubmit={(e) => {
            e.preventDefault();
            void attempt(async () => {
              await raiseHelp(session, agentId, reason, current);
              setReason("");
            });
          }}
        >
          <input
            aria-label={t("helpReason")}
            placeholder={t("helpReason")}
            required
            maxLength={200}
            value={reason}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          />
          <button type="submit">{t("askHelp")}</button>
        </form>
      )}
      <Refusal error={error} />
    </section>
  );
}
