// The softphone panel: registration, ringing offers (answer / decline), the lines in a call (mute,
// keypad, hang up) and sessions a supervisor opened (listening, whispering).
import { useState } from "preact/hooks";
import { t } from "../i18n";
import type { Line, Phone } from "../phone";

const KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

export function PhonePanel({ phone }: { phone: Phone }) {
  return (
    <section aria-labelledby="phone">
      <h2 id="phone">{t("phone")}</h2>
      <div data-testid="phone-registration">{t(`phone.${phone.registration}`)}</div>
      {phone.lines.map((line) => (
        <LineView key={line.id} phone={phone} line={line} />
      ))}
    </section>
  );
}

function LineView({ phone, line }: { phone: Phone; line: Line }) {
  const [pad, setPad] = useState(false);
  return (
    <div class={`line ${line.state}`} data-testid="line" data-state={line.state}>
      <strong>{line.from}</strong> · {t(`line.${line.state}`)}
      <div class="actions">
        {line.state === "ringing" && (
          <button class="primary" onClick={() => phone.answer(line)}>
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
          </>
        )}
        <button onClick={() => phone.hangUp(line)}>{t(line.state === "ringing" ? "decline" : "hangUp")}</button>
      </div>
      {pad && (
        <div class="keypad" role="group" aria-label={t("keypad")}>
          {KEYS.map((key) => (
            <button onClick={() => phone.keys(line, key)}>{key}</button>
          ))}
        </div>
      )}
    </div>
  );
}
