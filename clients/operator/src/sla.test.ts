import { describe, expect, it } from "vitest";
import { clockOf } from "./sla";

describe("an SLA clock", () => {
  const due = "2026-12-02T10:00:00Z";
  const at = (iso: string) => Date.parse(iso);

  it("counts down to the deadline, then counts how long it is overdue", () => {
    const target = { target_s: 600, used_s: 30, due, standing: "ok" };
    expect(clockOf(target, at("2026-12-02T09:58:55Z"))).toEqual({ kind: "left", left: "1:05", standing: "ok" });
    expect(clockOf({ ...target, standing: "warning" }, at("2026-12-02T09:59:59Z")).standing).toBe("warning");
    expect(clockOf(target, at("2026-12-02T10:00:03Z"))).toEqual({ kind: "overdue", over: "0:03", standing: "breached" });
  });

  it("says when a target was met, and how much was used while the clock is stopped", () => {
    expect(clockOf({ target_s: 600, used_s: 42, due: null, standing: "ok", met_at: "2026-12-02T09:00:00Z" }).kind).toBe("met");
    expect(clockOf({ target_s: 600, used_s: 3725, due: null, standing: "breached" })).toEqual({
      kind: "stopped", used: "1:02:05", standing: "breached",
    });
  });
});
