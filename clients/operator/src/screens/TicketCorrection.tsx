// Correcting a ticket: its category from the tree (the department follows) and its urgency and impact
// (the priority follows, from helpdesk's matrix); and merging it into another ticket by number.
import { useEffect, useState } from "preact/hooks";
import { act, categories, patchTicket, ticketNumbered, type Category, type Ticket } from "../desk";
import { t } from "../i18n";
import type { Session } from "../session";
import type { Attempt } from "./refusal";

interface Props {
  session: Session;
  ticket: Ticket;
  attempt: Attempt;
  changed: () => Promise<void>;
}

const LEVELS = [1, 2, 3];

export function TicketCorrection({ session, ticket, attempt, changed }: Props) {
  const [tree, setTree] = useState<Array<Category & { depth: number }>>([]);
  useEffect(() => {
    void categories(session).then(setTree).catch(() => undefined);
  }, []);
  const save = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const change: Record<string, string | number> = {};
    const category = String(form.get("category") ?? "");
    if (category && category !== ticket.category_id) change["category_id"] = category;
    for (const level of ["urgency", "impact"] as const) {
      const value = Number(form.get(level));
      if (value !== ticket[level]) change[level] = value;
    }
    if (Object.keys(change).length > 0) void attempt(async () => (await patchTicket(session, ticket.ticket_id, change), changed()));
  };
  const merge = (e: Event) => {
    e.preventDefault();
    const num = Number(new FormData(e.currentTarget as HTMLFormElement).get("into"));
    void attempt(async () => {
      const into = await ticketNumbered(session, num);
      if (!into) throw new Error(`${t("noTicketNumbered")} ${num}`);
      await act(session, ticket.ticket_id, "merge", { into: into.ticket_id });
      await changed();
    });
  };
  return (
    <div class="correction">
      <form class="filters" onSubmit={save} aria-label={t("correct")} key={`${ticket.category_id}-${ticket.urgency}-${ticket.impact}`}>
        <select name="category" aria-label={t("category")}>
          {ticket.category_id === null && <option value="">—</option>}
          {tree.map((c) => (
            <option value={c.id} selected={c.id === ticket.category_id}>{`${"\u00a0\u00a0".repeat(c.depth)}${c.name}`}</option>
          ))}
        </select>
        {(["urgency", "impact"] as const).map((level) => (
          <select name={level} aria-label={t(level)}>
            {LEVELS.map((n) => (
              <option value={n} selected={n === ticket[level]}>{t(level)} {n}</option>
            ))}
          </select>
        ))}
        <button type="submit">{t("save")}</button>
      </form>
      {ticket.actions.includes("merge") && (
        <form class="filters" onSubmit={merge}>
          <input name="into" type="number" min={1} required aria-label={t("mergeInto")} placeholder={t("mergeInto")} />
          <button type="submit">{t("action.merge")}</button>
        </form>
      )}
    </div>
  );
}
