import { expect, it } from "vitest";
import { shortcutOf } from "./shortcuts";

const key = (k: string, more: Partial<KeyboardEvent> = {}) => ({ altKey: true, ctrlKey: false, metaKey: false, key: k, ...more });

it("maps Alt and a letter to an action, and nothing else", () => {
  expect(shortcutOf(key("a"))).toBe("answer");
  expect(shortcutOf(key("H"))).toBe("hangUp");  // with Shift too
  expect(shortcutOf(key("o"))).toBe("hold");
  expect(shortcutOf(key("r"))).toBe("ready");
  expect(shortcutOf(key("a", { altKey: false }))).toBeNull();  // typing an "a"
  expect(shortcutOf(key("a", { ctrlKey: true }))).toBeNull();
  expect(shortcutOf(key("x"))).toBeNull();
});
