// What the desk's screens ask of helpdesk, with the person's own token (helpdesk decides what they
// may see: an operator their own tickets and callers, a supervisor everything).
import { call, page } from "./api";
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

/** The category tree, parents first, each with its depth (for an indented choice). */
export async function categories(session: Session): Promise<Array<Category & { depth: number }>> {
  const tree = await call<Category[]>("helpdesk", "v1/categories", { token: session.access });
  const depth = new Map<string, number>();
  return tree
    .filter((c) => c.active)
    .map((c) => {
      const d = c.parent_id ? (depth.get(c.parent_id) ?? 0) + 1 : 0;
      depth.set(c.id, d);
      return { ...c, depth: d };
    });
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
