import { describe, expect, it } from "vitest";
import { chartData, nextDay, readReport, reportPath, reportQuery, totals } from "./report";

describe("a report's choice and data", () => {
  const today = new Date("2026-12-02T12:00:00");

  it("reads back from the URL what it wrote; defaults are the last week by hour against the week before", () => {
    const choice = readReport(new URLSearchParams(""), today);
    expect(choice).toMatchObject({ kind: "lines", from: "2026-11-26", to: "2026-12-02", interval: "hour", compare: "week", hidden: [] });
    const mine = { ...choice, kind: "queues" as const, id: "emergencies", interval: "15min" as const, hidden: ["occupancy"] };
    expect(readReport(new URLSearchParams(reportQuery(mine)), today)).toEqual(mine);
    const odd = readReport(new URLSearchParams("kind=x&id=a/b&from=yesterday&interval=year&compare=decade&hide=a%20b"), today);
    expect(odd).toEqual(choice);
  });

  it("asks snitch for whole days, the last one included", () => {
    expect(nextDay("2026-12-31")).toBe("2027-01-01");
    const path = reportPath({ kind: "queues", id: "general", from: "2026-11-23", to: "2026-11-29", interval: "day", compare: "week", hidden: [] }, "csv");
    expect(path).toBe("v1/reports/queues/general?from=2026-11-23T00%3A00%3A00&to=2026-11-30T00%3A00%3A00&interval=day&compare=week&format=csv");
  });

  it("lays the past period over the current one bucket by bucket, gaps as gaps", () => {
    const report = {
      rows: [{ bucket: "2026-11-30T00:00:00+03:00", offered: 4, service_level: 0.5 }, { bucket: "2026-12-01T00:00:00+03:00", offered: 2, service_level: null }],
      compare_rows: [{ bucket: "2026-11-23T00:00:00+03:00", offered: 3, service_level: 1 }],
    };
    const data = chartData(report, ["offered", "service_level"]);
    expect(data.x).toEqual([Date.parse("2026-11-29T21:00:00Z") / 1000, Date.parse("2026-11-30T21:00:00Z") / 1000]);
    expect(data.current).toEqual([[4, 2], [0.5, null]]);
    expect(data.past).toEqual([[3, null], [1, null]]);
    expect(totals(report, ["offered"])).toEqual({ offered: [6, 3] });
    expect(chartData({ ...report, compare_rows: null }, ["offered"]).past).toEqual([]);
  });
});
