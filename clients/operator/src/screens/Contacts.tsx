// Finding a caller: by name, account, e-mail or a number typed in any format ("8 (916) 555-12-34",
// "+7 916 5551234"); helpdesk normalises it. Each result opens the contact's page.
import { useEffect, useState } from "preact/hooks";
import { searchContacts, type Contact } from "../desk";
import { t } from "../i18n";
import { href } from "../router";
import type { Session } from "../session";
import { Refusal, useAttempt } from "./refusal";

export function Contacts({ session, q }: { session: Session; q: string }) {
  const [text, setText] = useState(q);
  const [found, setFound] = useState<Contact[] | null>(null);
  const [error, attempt] = useAttempt();
  useEffect(() => {
    // a new search is a new hash and a new screen (the App keys it by the query)
    if (q) void attempt(async () => setFound(await searchContacts(session, q)));
  }, []);
  return (
    <section aria-labelledby="contacts">
      <h2 id="contacts">{t("contacts")}</h2>
      <form
        class="inline"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          location.hash = href({ screen: "contacts", q: text.trim() });
        }}
      >
        <input aria-label={t("findContact")} placeholder={t("findContact")} value={text} required maxLength={200} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <button type="submit">{t("find")}</button>
      </form>
      <Refusal error={error} />
      {found !== null && found.length === 0 && <p>{t("nobodyFound")}</p>}
      {found !== null && found.length > 0 && (
        <ul class="results" data-testid="contact-results">
          {found.map((c) => (
            <li key={c.contact_id}>
              <a href={href({ screen: "contact", id: c.contact_id })}>{c.name}</a>
              {c.vip && <span class="vip">VIP</span>} {c.organisation ?? ""} · {c.phones.map((p) => p.number).join(", ")}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
