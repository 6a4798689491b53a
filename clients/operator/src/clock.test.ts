import { expect, it } from "vitest";
import { elapsed } from "./clock";

it("shows minutes and seconds, then hours", () => {
  const since = "2026-12-02T10:00:00Z";
  const at = (s: number) => Date.parse(since) + s * 1000;
  expect(elapsed(since, at(0))).toBe("0:00");
  expect(elapsed(since, at(187))).toBe("3:07");
  expect(elapsed(since, at(3 * 3600 + 65))).toBe("3:01:05");
  expect(elapsed(since, at(-5))).toBe("0:00");  // a clock a little behind the server's
});
