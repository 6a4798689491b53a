// The softphone panel: registration, a ringing offer with the screen pop (answer / decline), the call
// (mute, keypad, hold and resume, blind transfer, consult then complete or go back, hang up) and
// sessions beside a call (a supervisor listening or whispering, a consult), answered by themselves.
// Hold, transfer and consult go to call-manager with the person's own token: it allows them on their
// own agent's calls only.
import { useEffect, useState } from "preact/hooks";
import { cancelConsult, completeConsult, consult, controlCall, type Consult } from "../actions";
import { t } from "../i18n";
import { HINTS } from "../shortcuts";
import type { Live } from "../live";
import type { Line, Phone } from "../phone";
import { Ringer } from "../ringer";
import type { Session } from "../session";
import { Refusal, useAttempt } from "./refusal";
import { ScreenPop } from "./ScreenPop";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];
const TARGETS = ["agent", "queue", "number"] as const;

interface Props {
  phone: Phone;
  live: Live;
  session: Session;
}

export function PhonePanel({ phone, live, session, ringer }: Props & { ringer: Ringer }) {
  const [outputs, setOutputs] = useState<MediaDeviceInfo[]>([]);
  const [device, setDevice] = useState(ringer.device);
  useEffect(() => {
    void Ringer.outputs().then(setOutputs);
  }, [phone.registration]);
  return (
    <section aria-labelledby="phone">
      <h2 id="phone">{t("phone")}</h2>
      <div data-testid="phone-registration">{t(`phone.${phone.registration}`)}</div>
      {phone.lines.map((line) => (
        <LineView key={line.id} phone={phone} line={line} live={live} session={session} />
      ))}
      {outputs.length > 1 && (
        <label class="ringer">
          {t("ringOn")}
          <select
            value={device}
            onChange={(e) => {
              const chosen = (e.target as HTMLSelectElement).value;
              ringer.choose(chosen);
              setDevice(chosen);
            }}
          >
            <option value="">{t("defaultDevice")}</option>
            {outputs.map((o) => (
              <option value={o.deviceId}>{o.label || o.deviceId.slice(0, 8)}</option>
            ))}
          </select>
        </label>
      )}
    </section>
  );
}

function LineView({ phone, line, live, session }: Props & { line: Line }) {
  const [pad, setPad] = useState(false);
  const [moving, setMoving] = useState(false);
  const [consulting, setConsulting] = useState<Consult | null>(null);
  const [error, attempt] = useAttempt();
  const held = line.callId !== null && live.calls.get(line.callId)?.state === "held";
  const state = held ? "held" : line.state;

  const control = (action: string, body?: unknown) =>
    attempt(async () => {
      if (line.callId) await controlCall(session, line.callId, action, body);
    });

  // blind: the caller goes to the target now; consult: first talk to the colleague (an agent)
  async function transfer(e: SubmitEvent) {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const [kind, target] = [String(form.get("kind")), String(form.get("target"))];
    const warm = (e.submitter as HTMLButtonElement | null)?.value === "consult";
    await attempt(async () => {
      if (!line.callId) return;
      if (warm) setConsulting(await consult(session, line.callId, target));
      else await controlCall(session, line.callId, "transfer", { target_kind: kind, target });
      setMoving(false);
    });
  }

  const finish = (handOver: boolean) =>
    attempt(async () => {
      if (!line.callId) return;
      setConsulting(null);
      await (handOver ? completeConsult(session, line.callId) : cancelConsult(session, line.callId));
    });

  return (
    <div class={`line ${state}`} data-testid="line" data-state={state}>
      <strong>{line.from}</strong> · {t(`line.${state}`)}
      {!line.automatic && line.callId && line.state === "ringing" && <ScreenPop number={line.from} callId={line.callId} known={line.caller} session={session} />}
      <div class="actions">
        {line.state === "ringing" && (
          <button class="primary" onClick={() => phone.answer(line)} title={HINTS.answer}>
            {t("answer")}
          </button>
        )}
        {line.state !== "ringing" && !line.automatic && (
          <>
            <button onClick={() => phone.toggleMute(line)} aria-pressed={line.muted}>
              {t(line.muted ? "unmute" : "mute")}
            </button>
            <button onClick={() => setPad(!pad)} aria-expanded={pad}>
              {t("keypad")}
            </button>
            {line.callId && (
              <>
                <button onClick={() => void control(held ? "unhold" : "hold")} title={HINTS.hold}>
                  {t(held ? "resume" : "hold")}
                </button>
                {!consulting && (
                  <button onClick={() => setMoving(!moving)} aria-expanded={moving}>
                    {t("transfer")}
                  </button>
                )}
              </>
            )}
          </>
        )}
        <button onClick={() => phone.hangUp(line)} title={HINTS.hangUp}>
          {t(line.state === "ringing" ? "decline" : "hangUp")}
        </button>
      </div>
      {consulting && (
        <div class="actions" role="group" aria-label={t("consulting")} data-testid="consulting">
          {t("consulting")} {consulting.colleague_id}
          <button class="primary" onClick={() => void finish(true)}>
            {t("completeTransfer")}
          </button>
          <button onClick={() => void finish(false)}>{t("backToCaller")}</button>
        </div>
      )}
      {moving && (
        <form class="actions" onSubmit={(e) => void transfer(e)} aria-label={t("transfer")}>
          <select name="kind" aria-label={t("transfer")}>
            {TARGETS.map((kind) => (
              <option value={kind}>{t(`target.${kind}`)}</option>
            ))}
          </select>
          <input name="target" aria-label={t("target")} required maxLength={64} />
          <button class="primary" type="submit" value="blind">
            {t("transfer")}
          </button>
          <button type="submit" value="consult">
            {t("consult")}
          </button>
        </form>
      )}
      {pad && (
        <div class="keypad" role="group" aria-label={t("keypad")}>
          {KEYS.map((key) => (
            <button onClick={() => phone.keys(line, key)}>{key}</button>
          ))}
        </div>
      )}
      <Refusal error={error} />
    </div>
  );
}
