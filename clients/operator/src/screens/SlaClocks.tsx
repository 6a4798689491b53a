// A ticket's first-response and resolution clocks, ticking each second between helpdesk's looks.
import { useEffect, useState } from "preact/hooks";
import { t } from "../i18n";
import { clockOf, type Target } from "../sla";
import { standing } from "./Tickets";

export function SlaClocks({ sla }: { sla: Record<string, unknown> | null | undefined }) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  if (!sla) return null;
  return (
    <ul class="clocks" data-testid="sla-clocks">
      {(["first_response", "resolution"] as const).map((name) => {
        const target = sla[name] as Target | undefined;
        if (!target) return null;
        const clock = clockOf(target, now);
        const text =
          clock.kind === "met" ? `${t("slaMet")} ${new Date(clock.at).toLocaleTimeString()}`
          : clock.kind === "stopped" ? `${t("slaStopped")} · ${t("slaUsed")} ${clock.used}`
          : clock.kind === "left" ? `${clock.left} ${t("slaLeft")} · ${t("due")} ${new Date(target.due ?? "").toLocaleString()}`
          : `${t("slaOverdue")} ${clock.over}`;
        return (
          <li class={standing(clock.standing)} data-target={name} data-standing={clock.standing}>
            <strong>{t(`sla.${name}`)}</strong> {t(`sla.${clock.standing}`)} · {text}
          </li>
        );
      })}
    </ul>
  );
}
