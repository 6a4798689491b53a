// Deep links in the URL's hash, so a ticket or a contact opens beside the phone panel from a link and
// the browser's back button works: #/tickets?view=mine, #/tickets/<id>, #/contacts?q=..., #/contacts/<id>.
export type Route =
  | { screen: "home" }
  | { screen: "tickets"; view: string }
  | { screen: "ticket"; id: string }
  | { screen: "contacts"; q: string }
  | { screen: "contact"; id: string };

export const VIEWS = ["mine", "new", "breaching", "open"] as const;

export function parse(hash: string): Route {
  const [path = "", query = ""] = hash.replace(/^#\/?/, "").split("?", 2);
  const params = new URLSearchParams(query);
  const [first, id] = path.split("/").map(decodeURIComponent);
  if (first === "tickets") {
    if (id) return { screen: "ticket", id };
    const view = params.get("view") ?? "mine";
    return { screen: "tickets", view: (VIEWS as readonly string[]).includes(view) ? view : "mine" };
  }
  if (first === "contacts") return id ? { screen: "contact", id } : { screen: "contacts", q: params.get("q") ?? "" };
  return { screen: "home" };
}

export function href(route: Route): string {
  switch (route.screen) {
    case "home":
      return "#/";
    case "tickets":
      return `#/tickets?view=${route.view}`;
    case "ticket":
      return `#/tickets/${encodeURIComponent(route.id)}`;
    case "contacts":
      return route.q ? `#/contacts?q=${encodeURIComponent(route.q)}` : "#/contacts";
    case "contact":
      return `#/contacts/${encodeURIComponent(route.id)}`;
  }
}
