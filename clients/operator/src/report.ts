// A report as the desk keeps it: the choice of line, queue or agent, period, interval and comparison
// in the URL (a report can be shared), snitch's path for it, and its rows as chart series with the
// comparison period drawn over the current one (its i-th bucket beside the current i-th).
export const KINDS = ["lines", "queues", "agents"] as const;
export const INTERVALS = ["15min", "hour", "day", "month"] as const;
export const COMPARES = ["none", "week", "month"] as const;
export type Kind = (typeof KINDS)[number];
export type Interval = (typeof INTERVALS)[number];
export type Compare = (typeof COMPARES)[number];

export interface ReportChoice {
  kind: Kind;
  id: string;
  from: string; // a local date, YYYY-MM-DD, the first day
  to: string; // the last day, included
  interval: Interval;
  compare: Compare;
  hidden: string[]; // series toggled off
}

export interface Chart {
  id: string;
  unit: "calls" | "share" | "seconds";
  series: string[];
}

export const CHARTS: Chart[] = [
  { id: "volume", unit: "calls", series: ["offered", "answered", "abandoned", "handled"] },
  { id: "rates", unit: "share", series: ["service_level", "abandon_rate", "occupancy"] },
  { id: "times", unit: "seconds", series: ["asa_s", "aht_s"] },
];
export const AGENT_CHARTS: Chart[] = [
  { id: "volume", unit: "calls", series: ["answered", "handled"] },
  { id: "rates", unit: "share", series: ["occupancy"] },
  { id: "times", unit: "seconds", series: ["aht_s"] },
];

export type Row = Record<string, unknown> & { bucket: string };
export interface Report {
  rows: Row[];
  compare_rows: Row[] | null;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const ID = /^[A-Za-z0-9_.:-]{1,100}$/;
const one = <T extends string>(value: string | null, allowed: readonly T[], fallback: T): T =>
  value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;

export function day(at: Date): string {
  const local = new Date(at.getTime() - at.getTimezoneOffset() * 60_000);
  return local.toISOString().slice(0, 10);
}

/** The report a URL names; by default the last seven days by hour against the week before. */
export function readReport(params: URLSearchParams, today: Date = new Date()): ReportChoice {
  const weekAgo = new Date(today.getTime() - 6 * 86_400_000);
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  const id = params.get("id") ?? "";
  return {
    kind: one(params.get("kind"), KINDS, "lines"),
    id: ID.test(id) ? id : "",
    from: DAY.test(from) ? from : day(weekAgo),
    to: DAY.test(to) ? to : day(today),
    interval: one(params.get("interval"), INTERVALS, "hour"),
    compare: one(params.get("compare"), COMPARES, "week"),
    hidden: (params.get("hide") ?? "").split(",").filter((s) => /^[a-z_]{1,40}$/.test(s)),
  };
}

export function reportQuery(choice: ReportChoice): string {
  const { kind, id, from, to, interval, compare } = choice;
  const params = new URLSearchParams({ kind, id, from, to, interval, compare });
  if (choice.hidden.length > 0) params.set("hide", choice.hidden.join(","));
  return params.toString();
}

/** The day after ``date`` (YYYY-MM-DD): the report's end, the last day included. */
export function nextDay(date: string): string {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
}

/** snitch's path for the report, as JSON or as a file. */
export function reportPath(choice: ReportChoice, format: "json" | "csv" | "xlsx" = "json"): string {
  const params = new URLSearchParams({
    from: `${choice.from}T00:00:00`, to: `${nextDay(choice.to)}T00:00:00`,
    interval: choice.interval, compare: choice.compare, format,
  });
  return `v1/reports/${choice.kind}/${encodeURIComponent(choice.id)}?${params.toString()}`;
}

const number = (value: unknown): number | null => (typeof value === "number" && Number.isFinite(value) ? value : null);

/** x (bucket starts, epoch seconds) and each series' values, current then the comparison's. */
export function chartData(report: Report, series: string[]): { x: number[]; current: Array<Array<number | null>>; past: Array<Array<number | null>> } {
  const x = report.rows.map((r) => Date.parse(r.bucket) / 1000);
  const values = (rows: Row[]) => series.map((name) => x.map((_, i) => number(rows[i]?.[name])));
  return { x, current: values(report.rows), past: report.compare_rows ? values(report.compare_rows) : [] };
}

/** Totals of the current and past periods for the summary beside the charts (sums of counts). */
export function totals(report: Report, names: string[]): Record<string, [number, number | null]> {
  const sum = (rows: Row[], name: string) => rows.reduce((acc, r) => acc + (number(r[name]) ?? 0), 0);
  return Object.fromEntries(
    names.map((n) => [n, [sum(report.rows, n), report.compare_rows ? sum(report.compare_rows, n) : null]]),
  );
}
