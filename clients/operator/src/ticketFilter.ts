// A ticket list's filter as the desk keeps it: in the URL's hash (a list can be shared and the back
// button works), as helpdesk's query, and saved by name in the browser for the next shift.
export const VIEWS = ["mine", "team", "unassigned", "breaching", "open", "all"] as const;
export const SORTS = ["urgent", "due", "newest", "oldest", "updated"] as const;
export const STATES = ["new", "assigned", "in_progress", "pending", "resolved", "awaiting_confirmation", "closed", "merged"];
export const STANDINGS = ["ok", "warning", "breached"];
export const PAGE_SIZE = 50;

export type View = (typeof VIEWS)[number];
export type Sort = (typeof SORTS)[number];

export interface TicketFilter {
  view: View;
  q: string;
  state: string;
  category: string;
  priority: string;
  sla: string;
  sort: Sort;
  page: number;
}

export const DEFAULT_FILTER: TicketFilter = {
  view: "mine", q: "", state: "", category: "", priority: "", sla: "", sort: "urgent", page: 1,
};

const one = <T extends string>(value: string | null, allowed: readonly T[], fallback: T): T =>
  value !== null && (allowed as readonly string[]).includes(value) ? (value as T) : fallback;

/** The filter a URL's query names; what it does not name (or names wrongly) is the default. */
export function readFilter(params: URLSearchParams): TicketFilter {
  const page = Number.parseInt(params.get("page") ?? "1", 10);
  return {
    view: one(params.get("view"), VIEWS, "mine"),
    q: (params.get("q") ?? "").slice(0, 200),
    state: one(params.get("state"), STATES, ""),
    category: /^[a-z0-9-]{1,64}$/.test(params.get("category") ?? "") ? params.get("category")! : "",
    priority: one(params.get("priority"), ["1", "2", "3", "4", "5"], ""),
    sla: one(params.get("sla"), STANDINGS, ""),
    sort: one(params.get("sort"), SORTS, "urgent"),
    page: Number.isFinite(page) && page >= 1 ? Math.min(page, 2000) : 1,
  };
}

/** The URL's query for a filter: the view always, the rest only where it is not the default. */
export function filterQuery(filter: TicketFilter): string {
  const params = new URLSearchParams({ view: filter.view });
  for (const key of ["q", "state", "category", "priority", "sla", "sort", "page"] as const) {
    if (filter[key] !== DEFAULT_FILTER[key]) params.set(key, String(filter[key]));
  }
  return params.toString();
}

/** helpdesk's query for one page of the list; ``me`` is the person's agent or staff id. */
export function helpdeskQuery(filter: TicketFilter, me: string): string {
  const params = new URLSearchParams();
  if (filter.view === "mine") params.set("assignee", me);
  else if (filter.view === "team") params.set("team", me);
  else if (filter.view !== "all") params.set("view", filter.view);
  for (const key of ["q", "state", "category", "priority", "sla"] as const) {
    if (filter[key]) params.set(key, filter[key]);
  }
  params.set("sort", filter.sort);
  params.set("limit", String(PAGE_SIZE));
  params.set("offset", String((filter.page - 1) * PAGE_SIZE));
  return params.toString();
}

/** "51–100 of 1,234" as numbers: the first and last shown, and the pages there are. */
export function pageSpan(filter: TicketFilter, shown: number, total: number): { first: number; last: number; pages: number } {
  const first = shown === 0 ? 0 : (filter.page - 1) * PAGE_SIZE + 1;
  return { first, last: first === 0 ? 0 : first + shown - 1, pages: Math.max(1, Math.ceil(total / PAGE_SIZE)) };
}

export interface SavedFilter {
  name: string;
  query: string; // filterQuery's, without the page
}

type Shelf = Pick<Storage, "getItem" | "setItem">;
const KEY = "callisto.ticketFilters";

export function savedFilters(shelf: Shelf): SavedFilter[] {
  try {
    const kept: unknown = JSON.parse(shelf.getItem(KEY) ?? "[]");
    return Array.isArray(kept)
      ? kept.filter((f): f is SavedFilter => typeof f?.name === "string" && typeof f?.query === "string")
      : [];
  } catch {
    return [];
  }
}

/** Keep ``filter`` under ``name`` (a filter of that name is replaced); the list sorted by name. */
export function saveFilter(shelf: Shelf, name: string, filter: TicketFilter): SavedFilter[] {
  const query = filterQuery({ ...filter, page: 1 });
  const kept = [...savedFilters(shelf).filter((f) => f.name !== name), { name, query }];
  kept.sort((a, b) => a.name.localeCompare(b.name));
  shelf.setItem(KEY, JSON.stringify(kept));
  return kept;
}

export function forgetFilter(shelf: Shelf, name: string): SavedFilter[] {
  const kept = savedFilters(shelf).filter((f) => f.name !== name);
  shelf.setItem(KEY, JSON.stringify(kept));
  return kept;
}
