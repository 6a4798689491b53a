import { describe, expect, it } from "vitest";
import { href, parse, ticketsOf, type Route } from "./router";
import { DEFAULT_FILTER } from "./ticketFilter";

describe("deep links", () => {
  it("read what the hash names, and fall back sensibly", () => {
    expect(parse("")).toEqual({ screen: "home" });
    expect(parse("#/tickets")).toEqual(ticketsOf("mine"));
    expect(parse("#/tickets?view=breaching")).toEqual(ticketsOf("breaching"));
    expect(parse("#/tickets?view=nonsense")).toEqual(ticketsOf("mine"));
    expect(parse("#/tickets/t%2F1")).toEqual({ screen: "ticket", id: "t/1" });
    expect(parse("#/contacts?q=8%20916")).toEqual({ screen: "contacts", q: "8 916" });
    expect(parse("#/contacts/k-1")).toEqual({ screen: "contact", id: "k-1" });
  });

  it("write a hash that reads back the same", () => {
    const routes: Route[] = [
      { screen: "home" }, { screen: "tickets", filter: { ...DEFAULT_FILTER, view: "unassigned", q: "a&b", page: 2 } }, { screen: "ticket", id: "a b" },
      { screen: "contacts", q: "+7 (916) 555-12-34" }, { screen: "contact", id: "k-1" },
    ];
    for (const route of routes) expect(parse(href(route))).toEqual(route);
  });
});
