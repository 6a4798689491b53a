// Reports for supervisors and managers: a line, queue or agent by 15 minutes, hour, day or month with
// the week or month before drawn over it (volumes, service level, abandon rate, occupancy, ASA, AHT),
// totals beside their past, CSV and XLSX as snitch writes them, the ticket trends of the period. The
// whole choice is in the URL: a report's link opens the same report.
import type { FunctionComponent } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { call, download } from "../api";
import { t } from "../i18n";
import {
  AGENT_CHARTS, CHARTS, chartData, COMPARES, INTERVALS, KINDS, reportPath, reportQuery, totals,
  type Report, type ReportChoice,
} from "../report";
import type { Session } from "../session";
import type { ChartProps } from "./Chart";
import { Refusal, useAttempt } from "./refusal";
import { Trends } from "./Trends";

interface Props {
  session: Session;
  choice: ReportChoice;
}

interface Known {
  queues: Record<string, unknown>;
  lines: Record<string, unknown>;
}

const SUMMED = ["offered", "answered", "abandoned", "handled"];

export function Reports({ session, choice }: Props) {
  const [known, setKnown] = useState<Known | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [Chart, setChart] = useState<FunctionComponent<ChartProps> | null>(null);
  const [drawn, setDrawn] = useState(0);
  const [error, attempt] = useAttempt();
  const go = (change: Partial<ReportChoice>) => (location.hash = `#/reports?${reportQuery({ ...choice, ...change })}`);
  useEffect(() => {
    void import("./Chart").then((m) => setChart(() => m.default));
    void call<Known>("snitch", "v1/kpis", { token: session.access }).then(setKnown).catch(() => undefined);
  }, []);
  const asked = reportPath(choice);
  useEffect(() => {
    setReport(null);
    setDrawn(0);
    if (choice.id) void attempt(async () => setReport(await call<Report>("snitch", asked, { token: session.access })));
  }, [asked]);
  useEffect(() => {
    if (!choice.id && known) {
      const first = Object.keys(choice.kind === "queues" ? known.queues : known.lines)[0];
      if (first && choice.kind !== "agents") go({ id: first });
    }
  }, [known, choice.kind]);
  const charts = choice.kind === "agents" ? AGENT_CHARTS : CHARTS;
  const data = useMemo(() => (report ? charts.map((c) => ({ chart: c, ...chartData(report, c.series) })) : []), [report]);
  const sums = report ? totals(report, choice.kind === "agents" ? ["answered", "handled"] : SUMMED) : {};
  const toggle = (name: string) =>
    go({ hidden: choice.hidden.includes(name) ? choice.hidden.filter((h) => h !== name) : [...choice.hidden, name] });
  const fileName = `report-${choice.kind}-${choice.id}-${choice.from}`;
  const ids = known ? Object.keys(choice.kind === "queues" ? known.queues : known.lines) : [];

  return (
    <section aria-labelledby="reports" data-testid="reports" data-ready={report !== null && drawn >= data.length ? "true" : undefined}>
      <h2 id="reports">{t("reports")}</h2>
      <form
        class="filters" key={reportQuery(choice)}
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget as HTMLFormElement);
          const pick = (name: string) => String(form.get(name) ?? "");
          go({
            kind: pick("kind") as ReportChoice["kind"], id: pick("id"), from: pick("from"), to: pick("to"),
            interval: pick("interval") as ReportChoice["interval"], compare: pick("compare") as ReportChoice["compare"],
          });
        }}
      >
        <select name="kind" aria-label={t("reportOf")}>
          {KINDS.map((k) => <option value={k} selected={k === choice.kind}>{t(`kind.${k}`)}</option>)}
        </select>
        {choice.kind === "agents" ? (
          <input name="id" aria-label={t("agent")} defaultValue={choice.id} required pattern="[A-Za-z0-9_.:\-]{1,100}" />
        ) : (
          <select name="id" aria-label={t(choice.kind === "queues" ? "queue" : "line")}>
            {ids.includes(choice.id) || !choice.id ? null : <option value={choice.id} selected>{choice.id}</option>}
            {ids.map((id) => <option value={id} selected={id === choice.id}>{id}</option>)}
          </select>
        )}
        <label class="inline">{t("from")} <input name="from" type="date" defaultValue={choice.from} required /></label>
        <label class="inline">{t("to")} <input name="to" type="date" defaultValue={choice.to} required /></label>
        <select name="interval" aria-label={t("interval")}>
          {INTERVALS.map((i) => <option value={i} selected={i === choice.interval}>{t(`interval.${i}`)}</option>)}
        </select>
        <select name="compare" aria-label={t("compareWith")}>
          {COMPARES.map((c) => <option value={c} selected={c === choice.compare}>{t(`compare.${c}`)}</option>)}
        </select>
        <button type="submit">{t("show")}</button>
      </form>
      <Refusal error={error} />
      {report && (
        <>
          <div class="filters" role="group" aria-label={t("export")}>
            {(["csv", "xlsx"] as const).map((format) => (
              <button type="button" onClick={() => void attempt(() => download(`/svc/snitch/api/${reportPath(choice, format)}`, session.access, `${fileName}.${format}`))}>
                {format.toUpperCase()}
              </button>
            ))}
          </div>
          <dl class="figures" data-testid="report-totals">
            {Object.entries(sums).map(([name, [now, past]]) => (
              <>
                <dt>{t(`kpi.${name}`)}</dt>
                <dd data-kpi={name}>{now}{past !== null && <small> ({t("pastPeriod")}: {past})</small>}</dd>
              </>
            ))}
          </dl>
          {Chart && data.map(({ chart, x, current, past }) => (
            <Chart
              key={`${asked}-${chart.id}`} id={chart.id} title={t(`chart.${chart.id}`)} unit={chart.unit} x={x}
              names={chart.series} current={current} past={past} hidden={choice.hidden} toggle={toggle}
              drawn={() => setDrawn((n) => n + 1)}
            />
          ))}
        </>
      )}
      {choice.kind !== "agents" && <Trends session={session} from={choice.from} to={choice.to} />}
    </section>
  );
}
