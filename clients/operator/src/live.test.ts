import { describe, expect, it } from "vitest";
import { Live, type GatewayMessage } from "./live";

const hello: GatewayMessage = {
  type: "hello", subject: "u-1", login: "operator1", name: "Olga Operator", agent_id: "agent-1", roles: ["operator"], expires_at: 2e9,
  streams: ["agents", "calls"],
};
const since = "2026-12-02T10:00:00Z";

function event(stream: string, seq: number, body: Record<string, unknown>): GatewayMessage {
  return { type: "event", stream, seq, event: { message_type: `${stream}.x`, ...body } };
}

describe("the live state", () => {
  it("starts from the snapshot and follows the events of each stream in order", () => {
    const live = new Live();
    expect(live.apply(hello)).toBe("ok");
    live.apply({ type: "snapshot", stream: "agents", seq: 0, items: [{ agent_id: "agent-1", state: "ready", since, name: "Olga", queues: [] }] });
    live.apply({ type: "snapshot", stream: "calls", seq: 0, items: [] });
    expect(live.mine()?.state).toBe("ready");
    expect(live.apply(event("calls", 1, { call_id: "c1", seq: 4, state: "ringing", since, direction: "inbound", agent_id: "agent-1" }))).toBe("ok");
    expect(live.apply(event("agents", 1, { agent_id: "agent-1", seq: 9, state: "on_call", since, call_id: "c1", queues: ["general"] }))).toBe("ok");
    expect(live.mine()).toEqual({ agent_id: "agent-1", state: "on_call", since, call_id: "c1", queues: ["general"] });
    expect([...live.calls.keys()]).toEqual(["c1"]);
    expect(live.calls.get("c1")).not.toHaveProperty("seq");  // the bus's numbering is not the entry's
  });

  it("drops ended calls and logged-out agents", () => {
    const live = new Live();
    live.apply(hello);
    live.apply({ type: "snapshot", stream: "calls", seq: 0, items: [{ call_id: "c1", state: "connected", since, direction: "inbound" }] });
    live.apply({ type: "snapshot", stream: "agents", seq: 0, items: [{ agent_id: "agent-1", state: "ready", since }] });
    live.apply(event("calls", 1, { call_id: "c1", state: "ended", since }));
    live.apply(event("agents", 1, { agent_id: "agent-1", state: "logged_out", since }));
    expect(live.calls.size + live.agents.size).toBe(0);
  });

  it("says so when a stream skips a number, and a new snapshot starts the count again", () => {
    const live = new Live();
    live.apply(hello);
    live.apply({ type: "snapshot", stream: "agents", seq: 0, items: [] });
    expect(live.apply(event("agents", 1, { agent_id: "agent-1", state: "ready", since }))).toBe("ok");
    expect(live.apply(event("agents", 3, { agent_id: "agent-1", state: "not_ready", since }))).toBe("gap");
    expect(live.mine()?.state).toBe("ready");  // nothing applied from a gap
    live.apply(hello);
    live.apply({ type: "snapshot", stream: "agents", seq: 0, items: [{ agent_id: "agent-1", state: "not_ready", since }] });
    expect(live.apply(event("agents", 1, { agent_id: "agent-1", state: "ready", since }))).toBe("ok");
    expect(live.apply(event("help", 1, { agent_id: "agent-1" }))).toBe("ok");  // streams count apart
  });

  it("keeps a renewed token's expiry", () => {
    const live = new Live();
    live.apply(hello);
    live.apply({ type: "renewed", expires_at: 3e9 });
    expect(live.me?.expires_at).toBe(3e9);
  });

  it("remembers the queue of a call that ended, for its wrap-up", () => {
    const live = new Live();
    live.apply(hello);
    live.apply({ type: "snapshot", stream: "calls", seq: 0, items: [] });
    live.apply(event("calls", 1, { call_id: "c1", state: "connected", since, direction: "inbound", caller: "+7916", queue_id: "billing", agent_id: "agent-1" }));
    live.apply(event("calls", 2, { call_id: "c1", state: "ended", since, direction: "inbound", agent_id: "agent-1" }));
    expect(live.calls.size).toBe(0);
    expect(live.recent.get("c1")).toMatchObject({ caller: "+7916", queue_id: "billing", state: "ended" });
  });

  it("lets an operator's call go when it is transferred to another agent", () => {
    const live = new Live();
    live.apply(hello);
    live.apply({ type: "snapshot", stream: "calls", seq: 0, items: [] });
    live.apply(event("calls", 1, { call_id: "c1", state: "connected", since, direction: "inbound", caller: "+7916", queue_id: "general", agent_id: "agent-1" }));
    live.apply(event("calls", 2, { call_id: "c1", state: "ringing", since, direction: "inbound", caller: "+7916", queue_id: null, agent_id: "agent-2" }));
    expect(live.calls.size).toBe(0);
    expect(live.recent.get("c1")?.queue_id).toBe("general");
  });

  it("keeps help requests while they are open or accepted", () => {
    const live = new Live();
    live.apply(hello);
    const request = { request_id: "h1", agent_id: "agent-1", state: "open", reason: "angry caller", raised_at: since, level: 1 };
    live.apply(event("help", 1, { agent_id: "agent-1", step: "raised", request }));
    expect(live.myHelp()?.reason).toBe("angry caller");
    live.apply(event("help", 2, { agent_id: "agent-1", step: "accepted", request: { ...request, state: "accepted", supervisor_id: "supervisor1" } }));
    expect(live.myHelp()?.supervisor_id).toBe("supervisor1");
    live.apply(event("help", 3, { agent_id: "agent-1", step: "closed", request: { ...request, state: "closed" } }));
    expect(live.myHelp()).toBeUndefined();
    live.takeHelp([{ ...request, request_id: "h2", agent_id: "agent-2" } as never]);
    expect([...live.help.keys()]).toEqual(["h2"]);
  });

  it("counts the ticket changes it is told of, per ticket", () => {
    const live = new Live();
    live.apply(hello);
    live.apply(event("tickets", 1, { ticket_id: "t1", number: 1001, action: "commented" }));
    live.apply(event("tickets", 2, { ticket_id: "t2", number: 1002, action: "assign" }));
    live.apply(event("tickets", 3, { ticket_id: "t1", number: 1001, action: "resolve" }));
    expect(live.ticketChanges).toBe(3);
    expect([live.ticketSeen.get("t1"), live.ticketSeen.get("t2")]).toEqual([3, 2]);
  });
});
