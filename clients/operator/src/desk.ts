// What the desk's screens ask of helpdesk, with the person's own token (helpdesk decides what they
// may see: an operator their own tickets and callers, a supervisor everything).
import { call, download, page, Problem } from "./api";
import type { components } from "./api/helpdesk";
import type { Session } from "./session";

export type Ticket = components["schemas"]["Ticket"];
export type Contact = components["schemas"]["Contact"];
export type CallCard = components["schemas"]["CallCard"];
export type Category = components["schemas"]["Category"];

/** One page of the tickets a filter finds (helpdeskQuery), and how many it finds in all. */
export function ticketPage(session: Session, query: string): Promise<{ items: Ticket[]; total: number }> {
  return page<Ticket>("helpdesk", `v1/tickets?${query}`, session.access);
}

/** The active category tree in reading order (each parent followed by its children, by position
 *  then name), each with its depth, for an indented choice. */
export async function categories(session: Session): Promise<Array<Category & { depth: number }>> {
  return treeOrder(await call<Category[]>("helpdesk", "v1/categories", { token: session.access }));
}

export function treeOrder(all: Category[]): Array<Category & { depth: number }> {
  const active = all.filter((c) => c.active);
  const known = new Set(active.map((c) => c.id));
  const children = new Map<string | null, Category[]>();
  for (const c of active) {
    const parent = c.parent_id !== null && known.has(c.parent_id) ? c.parent_id : null;
    children.set(parent, [...(children.get(parent) ?? []), c]);
  }
  const out: Array<Category & { depth: number }> = [];
  const visit = (parent: string | null, depth: number) => {
    const here = [...(children.get(parent) ?? [])].sort((a, b) => a.position - b.position || a.name.localeCompare(b.name));
    for (const c of here) {
      out.push({ ...c, depth });
      visit(c.id, depth + 1);
    }
  };
  visit(null, 0);
  return out;
}

export function ticket(session: Session, id: string): Promise<Ticket> {
  return call<Ticket>("helpdesk", `v1/tickets/${id}`, { token: session.access });
}

/** A lifecycle action (assign with an assignee, pend with pending_on, merge with into). */
export function act(session: Session, id: string, action: string, extra: Record<string, string> = {}): Promise<Ticket> {
  return call<Ticket>("helpdesk", `v1/tickets/${id}/actions`, { token: session.access, body: { action, ...extra } });
}

export function comment(session: Session, id: string, body: string, isPublic: boolean): Promise<unknown> {
  return call("helpdesk", `v1/tickets/${id}/comments`, { token: session.access, body: { body, public: isPublic } });
}

export function searchContacts(session: Session, q: string): Promise<Contact[]> {
  return call<Contact[]>("helpdesk", `v1/contacts?q=${encodeURIComponent(q)}&limit=50`, { token: session.access });
}

export function contact(session: Session, id: string): Promise<Contact> {
  return call<Contact>("helpdesk", `v1/contacts/${id}`, { token: session.access });
}

/** A contact's calls and tickets in one timeline, newest first. */
export async function timeline(session: Session, id: string): Promise<Array<{ at: string; card?: CallCard; ticket?: Ticket }>> {
  const token = session.access;
  const [cards, tickets] = await Promise.all([
    call<CallCard[]>("helpdesk", `v1/call-cards?contact_id=${id}&limit=50`, { token }),
    call<Ticket[]>("helpdesk", `v1/tickets?contact_id=${id}&limit=50`, { token }),
  ]);
  return [
    ...cards.map((card) => ({ at: card.started_at, card })),
    ...tickets.map((t) => ({ at: t.created_at, ticket: t })),
  ].sort((a, b) => b.at.localeCompare(a.at));
}

/** Correct a ticket: subject, category (the department follows), urgency and impact (the priority follows). */
export function patchTicket(session: Session, id: string, change: Record<string, string | number>): Promise<Ticket> {
  return call<Ticket>("helpdesk", `v1/tickets/${id}`, { token: session.access, method: "PATCH", body: change });
}

/** The ticket a number names, if the person may see it (for a merge). */
export async function ticketNumbered(session: Session, num: number): Promise<Ticket | undefined> {
  const found = await call<Ticket[]>("helpdesk", `v1/tickets?q=${num}&limit=1`, { token: session.access });
  return found.find((t) => t.number === num);
}

/** Upload a file to a ticket, telling ``progress`` the share sent (0..1) as it goes. */
export function attach(session: Session, id: string, file: File, progress: (share: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", `/svc/helpdesk/api/v1/tickets/${id}/attachments?name=${encodeURIComponent(file.name)}`);
    request.setRequestHeader("Authorization", `Bearer ${session.access ?? ""}`);
    request.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    request.upload.onprogress = (e) => e.lengthComputable && progress(e.loaded / e.total);
    request.onload = () => {
      if (request.status < 300) return resolve();
      let detail = request.statusText;
      try {
        detail = (JSON.parse(request.responseText) as { detail?: string }).detail ?? detail;
      } catch {
        // not problem details: the status says it
      }
      reject(new Problem(request.status, "upload", detail));
    };
    request.onerror = () => reject(new Problem(0, "upload", "the upload was cut off"));
    request.send(file);
  });
}

export function downloadAttachment(session: Session, ticketId: string, attachmentId: string, name: string): Promise<void> {
  return download(`/svc/helpdesk/api/v1/tickets/${ticketId}/attachments/${attachmentId}`, session.access, name);
}

export type Policy = components["schemas"]["Policy"];
export type SlaOverview = components["schemas"]["SlaOverview"];

export function putCategory(session: Session, id: string, body: { name: string; parent_id: string | null; department: string | null }): Promise<Category> {
  return call<Category>("helpdesk", `v1/categories/${encodeURIComponent(id)}`, { token: session.access, method: "PUT", body });
}

export function retireCategory(session: Session, id: string): Promise<void> {
  return call<void>("helpdesk", `v1/categories/${encodeURIComponent(id)}`, { token: session.access, method: "DELETE" });
}

export function slaOverview(session: Session): Promise<SlaOverview> {
  return call<SlaOverview>("helpdesk", "v1/sla", { token: session.access });
}

export function putPolicy(session: Session, id: string, body: Omit<Policy, "id">): Promise<Policy> {
  return call<Policy>("helpdesk", `v1/sla/policies/${encodeURIComponent(id)}`, { token: session.access, method: "PUT", body });
}

export function removePolicy(session: Session, id: string): Promise<void> {
  return call<void>("helpdesk", `v1/sla/policies/${encodeURIComponent(id)}`, { token: session.access, method: "DELETE" });
}
