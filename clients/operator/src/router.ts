// Deep links in the URL's hash, so a ticket or a contact opens beside the phone panel from a link and
// the browser's back button works: #/tickets?view=mine&q=..., #/tickets/<id>, #/contacts?q=...,
// #/contacts/<id>, #/reports?....
import { readReport, reportQuery, type ReportChoice } from "./report";
import { DEFAULT_FILTER, filterQuery, readFilter, type TicketFilter } from "./ticketFilter";

export type Route =
  | { screen: "home" }
  | { screen: "tickets"; filter: TicketFilter }
  | { screen: "ticket"; id: string }
  | { screen: "contacts"; q: string }
  | { screen: "contact"; id: string }
  | { screen: "reports"; choice: ReportChoice }
  | { screen: "settings" };

/** The tickets route of a view, the rest of the filter default. */
export const ticketsOf = (view: TicketFilter["view"]): Route => ({ screen: "tickets", filter: { ...DEFAULT_FILTER, view } });

export function parse(hash: string): Route {
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?", 2);
  const params = new URLSearchParams(query);
  const [first, id] = path.split("/").map(decodeURIComponent);
  if (first === "tickets") {
    if (id) return { screen: "ticket", id };
    return { screen: "tickets", filter: readFilter(params) };
  }
  if (first === "settings") return { screen: "settings" };
  if (first === "reports") return { screen: "reports", choice: readReport(params) };
  if (first === "contacts") return id ? { screen: "contact", id } : { screen: "contacts", q: params.get("q") ?? "" };
  return { screen: "home" };
}

export function href(route: Route): string {
  switch (route.screen) {
    case "home":
      return "#/";
    case "tickets":
      return `#/tickets?${filterQuery(route.filter)}`;
    case "ticket":
      return `#/tickets/${encodeURIComponent(route.id)}`;
    case "contacts":
      return route.q ? `#/contacts?q=${encodeURIComponent(route.q)}` : "#/contacts";
    case "contact":
      return `#/contacts/${encodeURIComponent(route.id)}`;
    case "reports":
      return `#/reports?${reportQuery(route.choice)}`;
    case "settings":
      return "#/settings";
  }
}
