// An external CRM beside the phone, as deployments embed theirs: the frame opens the deployment's URL
// template for the call offered ({caller}, {call_id}, {contact_id}, {agent_id}, each URL-encoded) and
// is told of the call's steps by postMessage, to the frame's own origin only:
//   { source: "callisto", type: "call.offered" | "call.answered" | "call.ended",
//     call_id, caller, contact_id, agent_id }
export interface CallFacts {
  call_id: string;
  caller: string;
  contact_id: string | null;
  agent_id: string | null;
}

export type CrmStep = "call.offered" | "call.answered" | "call.ended";

export interface CrmMessage extends CallFacts {
  source: "callisto";
  type: CrmStep;
}

const FIELDS = ["caller", "call_id", "contact_id", "agent_id"] as const;

export function crmUrl(template: string, facts: CallFacts): string {
  let url = template;
  for (const field of FIELDS) url = url.replaceAll(`{${field}}`, encodeURIComponent(facts[field] ?? ""));
  return url;
}

export function crmMessage(type: CrmStep, facts: CallFacts): CrmMessage {
  return { source: "callisto", type, ...facts };
}

/** The origin a message to the frame may reach (the template's, relative ones are this page's). */
export function crmOrigin(template: string, base: string): string {
  return new URL(template.replaceAll(/[{}]/g, ""), base).origin;
}
