// Administrators' editors: the category tree (add, rename, move under another, give a department,
// retire) and the SLA policies (by category and priority: calendar, first response and resolution
// targets, when to warn, who hears of a breach). helpdesk checks every change and says why it refuses.
import { useEffect, useState } from "preact/hooks";
import { categories, putCategory, putPolicy, removePolicy, retireCategory, slaOverview, type Category, type Policy, type SlaOverview } from "../desk";
import { t } from "../i18n";
import type { Session } from "../session";
import { Refusal, useAttempt } from "./refusal";

type Tree = Array<Category & { depth: number }>;

export function Settings({ session }: { session: Session }) {
  const [tree, setTree] = useState<Tree>([]);
  const [sla, setSla] = useState<SlaOverview | null>(null);
  const [error, attempt] = useAttempt();
  const reload = async () => {
    const [found, overview] = await Promise.all([categories(session), slaOverview(session)]);
    setTree(found);
    setSla(overview);
  };
  useEffect(() => void attempt(reload), []);
  /** Do ``change``, then read everything again; whether it was done (a refused form keeps its input). */
  const done = async (change: () => Promise<unknown>): Promise<boolean> => {
    let ok = false;
    await attempt(async () => {
      await change();
      ok = true;
      await reload();
    });
    return ok;
  };
  return (
    <section aria-labelledby="settings" data-testid="settings">
      <h2 id="settings">{t("settings")}</h2>
      <Refusal error={error} />
      <CategoryEditor tree={tree} save={(id, body) => done(() => putCategory(session, id, body))}
        retire={(id) => done(() => retireCategory(session, id))} />
      {sla && (
        <PolicyEditor tree={tree} sla={sla} save={(id, body) => done(() => putPolicy(session, id, body))}
          remove={(id) => done(() => removePolicy(session, id))} />
      )}
    </section>
  );
}

interface CategoryProps {
  tree: Tree;
  save: (id: string, body: { name: string; parent_id: string | null; department: string | null }) => Promise<boolean>;
  retire: (id: string) => Promise<boolean>;
}

function CategoryEditor({ tree, save, retire }: CategoryProps) {
  const [editing, setEditing] = useState<Category | null>(null);
  const [round, setRound] = useState(0); // a new round: an empty form
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    void save(text("id"), { name: text("name"), parent_id: text("parent") || null, department: text("department") || null }).then((ok) => {
      if (ok) (setEditing(null), setRound((n) => n + 1));
    });
  };
  return (
    <div>
      <h3>{t("categories")}</h3>
      <form class="filters" onSubmit={submit} aria-label={t("categoryForm")} key={`${editing?.id ?? "new"}-${round}`}>
        <input name="id" aria-label={t("identifier")} required pattern="[a-z0-9\-]{1,64}" defaultValue={editing?.id ?? ""} readOnly={editing !== null} placeholder="id" />
        <input name="name" aria-label={t("name")} required maxLength={200} defaultValue={editing?.name ?? ""} placeholder={t("name")} />
        <select name="parent" aria-label={t("parent")}>
          <option value="">{t("topLevel")}</option>
          {tree.map((c) => (
            <option value={c.id} selected={c.id === editing?.parent_id}>{`${"\u00a0\u00a0".repeat(c.depth)}${c.name}`}</option>
          ))}
        </select>
        <input name="department" aria-label={t("department")} pattern="[a-z0-9\-]{1,64}" defaultValue={editing?.department ?? ""} placeholder={t("departmentDefault")} />
        <button type="submit">{t("save")}</button>
        {editing && <button type="button" onClick={() => setEditing(null)}>{t("cancel")}</button>}
      </form>
      <table data-testid="category-tree">
        <thead><tr><th>{t("name")}</th><th>id</th><th>{t("department")}</th><th /></tr></thead>
        <tbody>
          {tree.map((c) => (
            <tr data-category={c.id}>
              <td style={{ paddingLeft: `${0.5 + c.depth * 1.2}rem` }}>{c.name}</td>
              <td>{c.id}</td>
              <td>{c.department}</td>
              <td>
                <button type="button" onClick={() => setEditing(c)}>{t("edit")}</button>{" "}
                <button type="button" onClick={() => void retire(c.id)}>{t("retire")}</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

interface PolicyProps {
  tree: Tree;
  sla: SlaOverview;
  save: (id: string, body: Omit<Policy, "id">) => Promise<boolean>;
  remove: (id: string) => Promise<boolean>;
}

const minutes = (seconds: number) => String(Math.round((seconds / 60) * 100) / 100);

function PolicyEditor({ tree, sla, save, remove }: PolicyProps) {
  const [editing, setEditing] = useState<Policy | null>(null);
  const [round, setRound] = useState(0);
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const text = (name: string) => String(form.get(name) ?? "").trim();
    void save(text("id"), {
      category_id: text("category") || null,
      priority: text("priority") ? Number(text("priority")) : null,
      calendar: text("calendar"),
      first_response_s: Math.max(1, Math.round(Number(text("first")) * 60)),
      resolution_s: Math.max(1, Math.round(Number(text("resolution")) * 60)),
      warn_at: Number(text("warn")) / 100,
      escalation: text("escalation").split(",").map((s) => s.trim()).filter(Boolean),
    }).then((ok) => {
      if (ok) (setEditing(null), setRound((n) => n + 1));
    });
  };
  const p = editing;
  return (
    <div>
      <h3>{t("slaPolicies")}</h3>
      <form class="filters" onSubmit={submit} aria-label={t("policyForm")} key={`${p?.id ?? "new"}-${round}`}>
        <input name="id" aria-label={t("identifier")} required pattern="[a-z0-9\-]{1,64}" defaultValue={p?.id ?? ""} readOnly={p !== null} placeholder="id" />
        <select name="category" aria-label={t("category")}>
          <option value="">{t("anyCategory")}</option>
          {tree.map((c) => (
            <option value={c.id} selected={c.id === p?.category_id}>{`${"\u00a0\u00a0".repeat(c.depth)}${c.name}`}</option>
          ))}
        </select>
        <select name="priority" aria-label={t("priority")}>
          <option value="">{t("anyPriority")}</option>
          {[1, 2, 3, 4, 5].map((n) => <option value={n} selected={n === p?.priority}>P{n}</option>)}
        </select>
        <select name="calendar" aria-label={t("calendar")}>
          {Object.keys(sla.calendars).map((name) => <option value={name} selected={name === p?.calendar}>{name}</option>)}
        </select>
        <label class="inline">{t("firstResponseMin")} <input name="first" type="number" min="0.02" step="any" required defaultValue={p ? minutes(p.first_response_s) : "60"} /></label>
        <label class="inline">{t("resolutionMin")} <input name="resolution" type="number" min="0.02" step="any" required defaultValue={p ? minutes(p.resolution_s) : "480"} /></label>
        <label class="inline">{t("warnAt")} <input name="warn" type="number" min="1" max="99" required defaultValue={String(Math.round((p?.warn_at ?? 0.8) * 100))} /></label>
        <input name="escalation" aria-label={t("escalation")} placeholder={t("escalation")} defaultValue={p?.escalation.join(", ") ?? ""} />
        <button type="submit">{t("save")}</button>
        {p && <button type="button" onClick={() => setEditing(null)}>{t("cancel")}</button>}
      </form>
      <table data-testid="sla-policies">
        <thead>
          <tr><th>id</th><th>{t("category")}</th><th>{t("priority")}</th><th>{t("calendar")}</th><th>{t("firstResponseMin")}</th><th>{t("resolutionMin")}</th><th>{t("warnAt")}</th><th>{t("escalation")}</th><th /></tr>
        </thead>
        <tbody>
          {sla.policies.map((policy) => (
            <tr data-policy={policy.id}>
              <td>{policy.id}</td><td>{policy.category_id ?? "—"}</td><td>{policy.priority ? `P${policy.priority}` : "—"}</td>
              <td>{policy.calendar}</td><td>{minutes(policy.first_response_s)}</td><td>{minutes(policy.resolution_s)}</td>
              <td>{Math.round(policy.warn_at * 100)}%</td><td>{policy.escalation.join(", ")}</td>
              <td>
                <button type="button" onClick={() => setEditing(policy)}>{t("edit")}</button>{" "}
                <button type="button" onClick={() => void remove(policy.id)}>{t("remove")}</button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
