import { useState } from "preact/hooks";
import { Problem } from "../api";
import { t } from "../i18n";
import type { Session } from "../session";

export function SignIn({ session }: { session: Session }) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    setBusy(true);
    try {
      await session.signIn(String(form.get("username")), String(form.get("password")));
    } catch (failure) {
      setError(failure instanceof Problem && failure.status === 401 ? t("wrong") : String(failure));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form class="sign-in" onSubmit={submit}>
      <h2>{t("title")}</h2>
      <label>
        {t("username")} <input name="username" autocomplete="username" required autofocus />
      </label>
      <label>
        {t("password")} <input name="password" type="password" autocomplete="current-password" required />
      </label>
      <button class="primary" type="submit" disabled={busy}>
        {t("signIn")}
      </button>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
