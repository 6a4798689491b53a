// What the gateway said so far: who I am, the agents and calls I may see, the help requests I may
// see, and the calls that ended lately (wrap-up needs their queue). Pure: fed one message at a time
// by feed.ts (and by the tests), it says when a stream skipped a number, so the connection is made
// again and a fresh snapshot replaces everything.
import type { components } from "./api/core-bus";
import type { components as queues } from "./api/queue-manager";

export type AgentEntry = components["schemas"]["AgentEntry"];
export type CallEntry = components["schemas"]["CallEntry"];
export type HelpRequest = queues["schemas"]["HelpRequest"];
const RECENT = 20; // ended calls remembered

export interface Hello {
  type: "hello";
  subject: string;
  login: string;
  name: string;
  agent_id: string | null;
  roles: string[];
  expires_at: number;
  streams: string[];
}
interface Snapshot {
  type: "snapshot";
  stream: string;
  seq: number;
  items: unknown[];
}
interface Relayed {
  type: "event";
  stream: string;
  seq: number;
  event: { message_type: string } & Record<string, unknown>;
}
interface Renewed {
  type: "renewed";
  expires_at: number;
}
export type GatewayMessage = Hello | Snapshot | Relayed | Renewed;

export type Applied = "ok" | "gap";

export class Live {
  me: Hello | null = null;
  agents = new Map<string, AgentEntry>();
  calls = new Map<string, CallEntry>();
  help = new Map<string, HelpRequest>();
  recent = new Map<string, CallEntry>();
  /** How many ticket changes the gateway told of, and the last one's number per ticket: the desk's
   *  screens ask helpdesk again when theirs changed (helpdesk decides what they may see). */
  ticketChanges = 0;
  ticketSeen = new Map<string, number>();
  private seq = new Map<string, number>();

  apply(message: GatewayMessage): Applied {
    switch (message.type) {
      case "hello":
        this.me = message;
        this.seq.clear();
        return "ok";
      case "renewed":
        if (this.me) this.me = { ...this.me, expires_at: message.expires_at };
        return "ok";
      case "snapshot":
        this.seq.set(message.stream, message.seq);
        if (message.stream === "agents") {
          this.agents = new Map((message.items as AgentEntry[]).map((a) => [a.agent_id, a]));
        } else if (message.stream === "calls") {
          this.calls = new Map((message.items as CallEntry[]).map((c) => [c.call_id, c]));
        }
        return "ok";
      case "event": {
        const expected = (this.seq.get(message.stream) ?? 0) + 1;
        if (message.seq !== expected) return "gap";
        this.seq.set(message.stream, message.seq);
        if (message.stream === "agents") this.agent(message.event);
        if (message.stream === "calls") this.call(message.event);
        const request = (message.event as { request?: HelpRequest }).request;
        if (message.stream === "help" && request) this.helpChanged(request);
        if (message.stream === "tickets") this.ticketChanged(String(message.event["ticket_id"]));
        return "ok";
      }
    }
  }

  private agent(event: Record<string, unknown>): void {
    const entry = event as unknown as AgentEntry;
    if (entry.state === "logged_out") this.agents.delete(entry.agent_id);
    else this.agents.set(entry.agent_id, pick<AgentEntry>(event, AGENT_FIELDS));
  }

  private call(event: Record<string, unknown>): void {
    const entry = event as unknown as CallEntry;
    const left = this.me?.agent_id && !this.seesEveryone() && entry.agent_id !== this.me.agent_id; // transferred away
    if (entry.state !== "ended" && !left) {
      this.calls.set(entry.call_id, pick<CallEntry>(event, CALL_FIELDS));
      return;
    }
    const known = Object.entries(pick<CallEntry>(event, CALL_FIELDS)).filter(([, value]) => value !== null);
    this.recent.set(entry.call_id, { ...this.calls.get(entry.call_id), ...Object.fromEntries(known) } as CallEntry);
    this.calls.delete(entry.call_id);
    if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value as string);
  }

  private ticketChanged(ticketId: string): void {
    this.ticketChanges += 1;
    this.ticketSeen.set(ticketId, this.ticketChanges);
  }

  /** Help requests the services listed (a supervisor's inbox after a (re)connect). */
  takeHelp(requests: HelpRequest[]): void {
    this.help = new Map();
    for (const request of requests) this.helpChanged(request);
  }

  private helpChanged(request: HelpRequest): void {
    if (request.state === "open" || request.state === "accepted") this.help.set(request.request_id, request);
    else this.help.delete(request.request_id);
  }

  /** My own open or accepted help request, if any. */
  myHelp(): HelpRequest | undefined {
    return [...this.help.values()].find((h) => h.agent_id === this.me?.agent_id);
  }

  seesEveryone(): boolean {
    return this.me?.roles.some((r) => r === "supervisor" || r === "administrator") ?? false;
  }

  /** My own agent (an operator's), when the gateway listed it. */
  mine(): AgentEntry | undefined {
    return this.me?.agent_id ? this.agents.get(this.me.agent_id) : undefined;
  }
}

const AGENT_FIELDS = ["agent_id", "name", "state", "since", "reason", "call_id", "queues", "until"] as const;
const CALL_FIELDS = ["call_id", "state", "since", "direction", "caller", "dialled", "queue_id", "agent_id"] as const;

function pick<T>(event: Record<string, unknown>, fields: readonly string[]): T {
  return Object.fromEntries(fields.filter((f) => f in event).map((f) => [f, event[f]])) as T;
}
