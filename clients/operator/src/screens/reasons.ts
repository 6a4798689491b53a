// Not-ready reasons as queue-manager lists them; shown in the person's language when the client knows
// the code, else by the name the deployment gave.
import type { components } from "../api/queue-manager";
import { t } from "../i18n";

export type Reason = components["schemas"]["Code"];

export function reasonName(code: string, reasons: Reason[]): string {
  const translated = t(`reason.${code}`);
  if (translated !== `reason.${code}`) return translated;
  return reasons.find((r) => r.code === code)?.name || code;
}
