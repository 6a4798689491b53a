// What a person asks of the services from the client, with their own token: one place for the
// panel's buttons and the keyboard shortcuts.
import { call } from "./api";
import type { Session } from "./session";

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
