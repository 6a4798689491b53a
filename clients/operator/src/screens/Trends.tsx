// helpdesk's ticket trends over a report's days: tickets a day, SLA attainment, top categories and terms.
import { useEffect, useState } from "preact/hooks";
import { call } from "../api";
import type { components } from "../api/helpdesk";
import { t } from "../i18n";
import { nextDay } from "../report";
import type { Session } from "../session";

type TrendRow = components["schemas"]["TrendRow"];

export function Trends({ session, from, to }: { session: Session; from: string; to: string }) {
  const [rows, setRows] = useState<TrendRow[] | null>(null);
  useEffect(() => {
    const offset = -new Date().getTimezoneOffset();
    const zone = `${offset >= 0 ? "+" : "-"}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, "0")}:${String(Math.abs(offset) % 60).padStart(2, "0")}`;
    const query = new URLSearchParams({ from: `${from}T00:00:00${zone}`, to: `${nextDay(to)}T00:00:00${zone}`, period: "day", top: "3" });
    void call<TrendRow[]>("helpdesk", `v1/trends?${query.toString()}`, { token: session.access }).then(setRows).catch(() => setRows(null));
  }, [from, to]);
  if (!rows || rows.length === 0) return null;
  const most = Math.max(1, ...rows.map((r) => r.tickets));
  return (
    <div data-testid="trends">
      <h3>{t("ticketTrends")}</h3>
      <table>
        <thead>
          <tr><th>{t("day")}</th><th>{t("tickets")}</th><th>{t("slaMetShare")}</th><th>{t("topCategories")}</th><th>{t("topTerms")}</th></tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr>
              <td>{row.period}</td>
              <td><meter min={0} max={most} value={row.tickets} aria-hidden="true" /> {row.tickets}</td>
              <td>{row.sla_met === null || row.sla_met === undefined ? "—" : `${Math.round(row.sla_met * 100)}%`}</td>
              <td>{row.categories.map((c) => `${c.category_id} (${c.tickets})`).join(", ")}</td>
              <td>{row.terms.map((c) => c.term).join(", ")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
