// Keyboard shortcuts (Alt + a letter, so typing in a field never triggers one): answer, hang up,
// hold/resume, ready. Pure: which action a key asks for; App carries it out.
export type Shortcut = "answer" | "hangUp" | "hold" | "ready";

const KEYS: Record<string, Shortcut> = { a: "answer", h: "hangUp", o: "hold", r: "ready" };

export function shortcutOf(event: Pick<KeyboardEvent, "altKey" | "ctrlKey" | "metaKey" | "key">): Shortcut | null {
  if (!event.altKey || event.ctrlKey || event.metaKey) return null;
  return KEYS[event.key.toLowerCase()] ?? null;
}

export const HINTS: Record<Shortcut, string> = { answer: "Alt+A", hangUp: "Alt+H", hold: "Alt+O", ready: "Alt+R" };
