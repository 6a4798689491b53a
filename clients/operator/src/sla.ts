// An SLA target as the desk shows it, second by second between helpdesk's looks: met, stopped,
// the time left until it is due or how long it is overdue. The standing is helpdesk's (it decides
// warnings and breaches in business time and tells of them); a target past due reads breached at once.
import { elapsed } from "./clock";

export interface Target {
  target_s: number;
  used_s: number;
  due: string | null;
  standing: string;
  met_at?: string | null;
}

export type Clock =
  | { kind: "met"; at: string; standing: string }
  | { kind: "stopped"; used: string; standing: string }
  | { kind: "left"; left: string; standing: string }
  | { kind: "overdue"; over: string; standing: "breached" };

const span = (seconds: number) => elapsed(new Date(0).toISOString(), seconds * 1000);

export function clockOf(target: Target, now: number = Date.now()): Clock {
  if (target.met_at) return { kind: "met", at: target.met_at, standing: target.standing };
  if (target.due === null) return { kind: "stopped", used: span(target.used_s), standing: target.standing };
  const left = (Date.parse(target.due) - now) / 1000;
  if (left < 0) return { kind: "overdue", over: span(-left), standing: "breached" };
  return { kind: "left", left: span(left), standing: target.standing };
}
