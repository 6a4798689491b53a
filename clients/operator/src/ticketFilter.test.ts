import { describe, expect, it } from "vitest";
import {
  DEFAULT_FILTER, filterQuery, forgetFilter, helpdeskQuery, pageSpan, readFilter, saveFilter, savedFilters,
} from "./ticketFilter";

class Shelf {
  kept = new Map<string, string>();
  getItem(key: string) {
    return this.kept.get(key) ?? null;
  }
  setItem(key: string, value: string) {
    this.kept.set(key, value);
  }
}

describe("a ticket list's filter", () => {
  it("reads back from the URL what it wrote, and only what differs from the default", () => {
    const filter = { ...DEFAULT_FILTER, view: "team" as const, q: "нет воды", category: "water", priority: "2", sort: "newest" as const, page: 3 };
    expect(readFilter(new URLSearchParams(filterQuery(filter)))).toEqual(filter);
    expect(filterQuery(DEFAULT_FILTER)).toBe("view=mine");
  });

  it("takes the default for what a URL names wrongly", () => {
    const odd = readFilter(new URLSearchParams("view=everything&state=lost&category=No%20Such&priority=9&sla=late&sort=x&page=-2"));
    expect(odd).toEqual(DEFAULT_FILTER);
    expect(readFilter(new URLSearchParams("page=99999")).page).toBe(2000);
  });

  it("asks helpdesk for the view's tickets, one page at a time", () => {
    const ask = (query: string) => new URLSearchParams(helpdeskQuery(readFilter(new URLSearchParams(query)), "agent-1"));
    expect(ask("view=mine").get("assignee")).toBe("agent-1");
    expect(ask("view=team").get("team")).toBe("agent-1");
    expect(ask("view=breaching").get("view")).toBe("breaching");
    expect(ask("view=all").has("view")).toBe(false);
    const third = ask("view=open&q=hydrant&page=3&sort=due");
    expect([third.get("q"), third.get("offset"), third.get("limit"), third.get("sort")]).toEqual(["hydrant", "100", "50", "due"]);
    expect(ask("view=open").has("q")).toBe(false);
  });

  it("says which tickets of how many a page shows", () => {
    expect(pageSpan({ ...DEFAULT_FILTER, page: 2 }, 50, 120)).toEqual({ first: 51, last: 100, pages: 3 });
    expect(pageSpan(DEFAULT_FILTER, 0, 0)).toEqual({ first: 0, last: 0, pages: 1 });
  });

  it("keeps saved filters by name, the page left out, and survives a spoiled shelf", () => {
    const shelf = new Shelf();
    saveFilter(shelf, "Water, mine", { ...DEFAULT_FILTER, category: "water", page: 4 });
    saveFilter(shelf, "Breaching", { ...DEFAULT_FILTER, view: "breaching" });
    const kept = saveFilter(shelf, "Water, mine", { ...DEFAULT_FILTER, category: "water", priority: "1" });
    expect(kept).toEqual([
      { name: "Breaching", query: "view=breaching" },
      { name: "Water, mine", query: "view=mine&category=water&priority=1" },
    ]);
    expect(forgetFilter(shelf, "Breaching").map((f) => f.name)).toEqual(["Water, mine"]);
    shelf.setItem("callisto.ticketFilters", "{not json");
    expect(savedFilters(shelf)).toEqual([]);
  });
});
