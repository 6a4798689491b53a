// What a person asks of the services from the client, with their own token: one place for the
// panel's buttons and the keyboard shortcuts. Each service decides and refuses with a Problem.
import { call } from "./api";
import type { components as calls } from "./api/call-manager";
import type { Ticket } from "./desk";
import type { HelpRequest } from "./live";
import type { Session } from "./session";

export type Listener = calls["schemas"]["ListenerView"];
export type Consult = calls["schemas"]["ConsultView"];

/** Log in, ready, not ready (with a reason), log out: queue-manager decides. */
export function requestState(session: Session, agentId: string, request: string, reason?: string): Promise<unknown> {
  return call("queue-manager", `v1/agents/${agentId}/state`, {
    token: session.access,
    body: reason === undefined ? { request } : { request, reason },
  });
}

/** hold, unhold, transfer, hangup on one's own call: call-manager decides. */
export function controlCall(session: Session, callId: string, action: string, body: unknown = {}): Promise<unknown> {
  return call("call-manager", `v1/calls/${callId}/${action}`, { token: session.access, body });
}

/** How my last call ended (a disposition of its queue) and a note. */
export function dispose(session: Session, agentId: string, callId: string, disposition: string | null, note: string): Promise<unknown> {
  return call("queue-manager", `v1/agents/${agentId}/wrap-up`, {
    token: session.access,
    body: { call_id: callId, disposition, note },
  });
}

/** A ticket opened from the call: helpdesk fills in the caller, their contact and the IVR input. */
export function ticketFromCall(session: Session, callId: string, description: string): Promise<Ticket> {
  return call<Ticket>("helpdesk", `v1/call-cards/${callId}/ticket`, { token: session.access, body: { description } });
}

/** A callback promised to the caller: the agent's phone rings first, then the number, from `at`. */
export function scheduleCallback(session: Session, queueId: string, number: string, at: Date): Promise<unknown> {
  return call("queue-manager", "v1/callbacks", {
    token: session.access,
    body: { queue_id: queueId, number, not_before: at.toISOString() },
  });
}

export function raiseHelp(session: Session, agentId: string, reason: string, callId: string | null): Promise<HelpRequest> {
  return call<HelpRequest>("queue-manager", `v1/agents/${agentId}/help`, {
    token: session.access,
    body: callId ? { reason, call_id: callId } : { reason },
  });
}

export function cancelHelp(session: Session, agentId: string, requestId: string): Promise<HelpRequest> {
  return call<HelpRequest>("queue-manager", `v1/agents/${agentId}/help/${requestId}`, { method: "DELETE", token: session.access });
}

export function acceptHelp(session: Session, requestId: string, supervisorId: string): Promise<HelpRequest> {
  return call<HelpRequest>("queue-manager", `v1/help/${requestId}/accept`, {
    token: session.access,
    body: { supervisor_id: supervisorId },
  });
}

export function closeHelp(session: Session, requestId: string): Promise<HelpRequest> {
  return call<HelpRequest>("queue-manager", `v1/help/${requestId}/close`, { token: session.access, body: {} });
}

/** The supervisor's browser phone takes the call's audio by itself (and whispers when asked). */
export function listen(session: Session, callId: string, username: string): Promise<Listener> {
  return call<Listener>("call-manager", `v1/calls/${callId}/listeners`, { token: session.access, body: { username } });
}

export function whisper(session: Session, listener: Listener, on: boolean): Promise<Listener> {
  return call<Listener>("call-manager", `v1/calls/${listener.call_id}/listeners/${listener.listener_id}`, {
    method: "PATCH",
    token: session.access,
    body: { whisper: on },
  });
}

export function stopListening(session: Session, listener: Listener): Promise<Listener> {
  return call<Listener>("call-manager", `v1/calls/${listener.call_id}/listeners/${listener.listener_id}`, {
    method: "DELETE",
    token: session.access,
  });
}

/** Consult a colleague (the caller waits on hold); then hand the caller over, or go back to them. */
export function consult(session: Session, callId: string, agentId: string): Promise<Consult> {
  return call<Consult>("call-manager", `v1/calls/${callId}/consult`, { token: session.access, body: { agent_id: agentId } });
}

export function completeConsult(session: Session, callId: string): Promise<unknown> {
  return call("call-manager", `v1/calls/${callId}/consult/complete`, { token: session.access, body: {} });
}

export function cancelConsult(session: Session, callId: string): Promise<Consult> {
  return call<Consult>("call-manager", `v1/calls/${callId}/consult`, { method: "DELETE", token: session.access });
}
