// The ticket queues: mine, my team's, unassigned, breaching their SLA, everything open or everything;
// narrowed by words, state, category (with those below it), priority and SLA standing, sorted and
// paged; the filter lives in the URL (shareable, back button) and can be saved by name. Asked for
// again when the gateway tells of a ticket change.
import { useEffect, useRef, useState } from "preact/hooks";
import { categories, ticketPage, type Category, type Ticket } from "../desk";
import { t } from "../i18n";
import { href } from "../router";
import type { Session } from "../session";
import {
  forgetFilter, helpdeskQuery, pageSpan, saveFilter, savedFilters, SORTS, STANDINGS, STATES, VIEWS,
  filterQuery, type TicketFilter,
} from "../ticketFilter";
import { Refusal, useAttempt } from "./refusal";

interface Props {
  session: Session;
  filter: TicketFilter;
  me: string;
  changes: number; // ticket changes the gateway told of: the list is asked for again
}

const COUNT_CAP = 10_000;

export function Tickets({ session, filter, me, changes }: Props) {
  const [found, setFound] = useState<{ items: Ticket[]; total: number } | null>(null);
  const [loads, setLoads] = useState(0); // answers shown so far (data-loads: tests and the benchmark wait on it)
  const [tree, setTree] = useState<Array<Category & { depth: number }>>([]);
  const [saved, setSaved] = useState(() => savedFilters(localStorage));
  const [naming, setNaming] = useState(false);
  const [error, attempt] = useAttempt();
  const query = helpdeskQuery(filter, me);
  const shown = useRef(query); // the filter on screen: an answer to one since changed is dropped
  shown.current = query;
  const load = async (wanted: string): Promise<boolean> => {
    const page = await ticketPage(session, wanted);
    if (wanted !== shown.current) return false;
    setFound(page);
    return true;
  };
  useEffect(() => {
    void attempt(async () => {
      if (await load(query)) setLoads((n) => n + 1);
    });
  }, [query]);
  useEffect(() => {
    if (changes > 0) void load(query).catch(() => undefined);
  }, [changes]);
  useEffect(() => {
    void categories(session).then(setTree).catch(() => undefined);
  }, []);
  const to = (change: Partial<TicketFilter>) => href({ screen: "tickets", filter: { ...filter, page: 1, ...change } });
  const go = (change: Partial<TicketFilter>) => (location.hash = to(change));
  const current = filterQuery({ ...filter, page: 1 });
  const mine = saved.find((f) => f.query === current);
  const span = found ? pageSpan(filter, found.items.length, found.total) : null;
  const choice = (key: keyof TicketFilter, label: string, options: Array<[string, string]>) => (
    <select aria-label={label} value={String(filter[key])} onChange={(e) => go({ [key]: (e.target as HTMLSelectElement).value })}>
      {options.map(([value, text]) => (
        <option value={value}>{text}</option>
      ))}
    </select>
  );
  return (
    <section aria-labelledby="tickets" data-testid="tickets" data-loads={loads}>
      <h2 id="tickets">{t("tickets")}</h2>
      <nav class="tabs" aria-label={t("tickets")}>
        {VIEWS.map((v) => (
          <a href={to({ view: v })} aria-current={v === filter.view ? "page" : undefined}>
            {t(`view.${v}`)}
          </a>
        ))}
      </nav>
      <form
        class="filters" role="search" key={filter.q}
        onSubmit={(e) => {
          e.preventDefault();
          go({ q: String(new FormData(e.currentTarget as HTMLFormElement).get("q") ?? "").trim() });
        }}
      >
        <input name="q" type="search" aria-label={t("searchTickets")} placeholder={t("searchTickets")} defaultValue={filter.q} maxLength={200} />
        <button type="submit">{t("search")}</button>
        {choice("state", t("state"), [["", t("anyState")], ...STATES.map((s): [string, string] => [s, t(`ticket.${s}`)])])}
        {choice("category", t("category"), [
          ["", t("anyCategory")],
          ...tree.map((c): [string, string] => [c.id, `${"\u00a0\u00a0".repeat(c.depth)}${c.name}`]),
        ])}
        {choice("priority", t("priority"), [["", t("anyPriority")], ...["1", "2", "3", "4", "5"].map((p): [string, string] => [p, `P${p}`])])}
        {choice("sla", "SLA", [["", t("anySla")], ...STANDINGS.map((s): [string, string] => [s, t(`sla.${s}`)])])}
        {choice("sort", t("sortBy"), SORTS.map((s) => [s, t(`sort.${s}`)]))}
      </form>
      <div class="filters" aria-label={t("savedFilters")} role="group">
        {saved.length > 0 && (
          <select
            aria-label={t("chooseFilter")} value=""
            onChange={(e) => (location.hash = `#/tickets?${(e.target as HTMLSelectElement).value}`)}
          >
            <option value="">{t("savedFilters")}…</option>
            {saved.map((f) => (
              <option value={f.query}>{f.name}</option>
            ))}
          </select>
        )}
        {mine ? (
          <button type="button" onClick={() => setSaved(forgetFilter(localStorage, mine.name))}>
            {t("forgetFilter")} «{mine.name}»
          </button>
        ) : naming ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              const name = String(new FormData(e.currentTarget as HTMLFormElement).get("name") ?? "").trim();
              if (name) setSaved(saveFilter(localStorage, name.slice(0, 60), filter));
              setNaming(false);
            }}
          >
            <input name="name" aria-label={t("filterName")} placeholder={t("filterName")} autoFocus maxLength={60} />
            <button type="submit">{t("save")}</button>
          </form>
        ) : (
          <button type="button" onClick={() => setNaming(true)}>
            {t("saveFilter")}
          </button>
        )}
      </div>
      <Refusal error={error} />
      {found !== null && found.items.length === 0 && <p>{t("noTickets")}</p>}
      {found !== null && found.items.length > 0 && (
        <table data-testid="ticket-list">
          <thead>
            <tr>
              <th>#</th><th>{t("subject")}</th><th>{t("category")}</th><th>{t("state")}</th><th>{t("priority")}</th>
              <th>{t("assignee")}</th><th>SLA</th><th>{t("due")}</th>
            </tr>
          </thead>
          <tbody>
            {found.items.map((ticket) => (
              <tr key={ticket.ticket_id} data-ticket={ticket.number}>
                <td><a href={href({ screen: "ticket", id: ticket.ticket_id })}>{ticket.number}</a></td>
                <td>{ticket.subject}</td>
                <td>{ticket.category_id ?? "—"}</td>
                <td>{t(`ticket.${ticket.state}`)}</td>
                <td>P{ticket.priority}</td>
                <td>{ticket.assignee ?? "—"}</td>
                <td class={standing(ticket.sla_standing)}>{t(`sla.${ticket.sla_standing}`)}</td>
                <td>{ticket.resolution_due ? new Date(ticket.resolution_due).toLocaleString() : "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {found !== null && span !== null && found.total > 0 && (
        <nav class="pages" aria-label={t("pages")} data-testid="ticket-pages">
          {filter.page > 1 && <a href={to({ page: filter.page - 1 })} rel="prev">{t("previous")}</a>}
          <span>
            {span.first}–{span.last} {t("of")} {found.total > COUNT_CAP ? `${COUNT_CAP.toLocaleString()}+` : found.total.toLocaleString()}
          </span>
          {filter.page < span.pages && <a href={to({ page: filter.page + 1 })} rel="next">{t("next")}</a>}
        </nav>
      )}
    </section>
  );
}

export function standing(sla: string): string {
  return sla === "breached" ? "red" : sla === "warning" ? "amber" : "green";
}
