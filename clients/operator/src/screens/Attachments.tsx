// A ticket's files: downloaded with the person's token, uploaded with the share sent shown as it goes.
import { useState } from "preact/hooks";
import { attach, downloadAttachment, type Ticket } from "../desk";
import { t } from "../i18n";
import type { Session } from "../session";
import type { Attempt } from "./refusal";

interface Props {
  session: Session;
  ticket: Ticket;
  attempt: Attempt;
  changed: () => Promise<void>;
}

const size = (bytes: number) =>
  bytes < 1024 ? `${bytes} B` : bytes < 1024 ** 2 ? `${(bytes / 1024).toFixed(1)} KB` : `${(bytes / 1024 ** 2).toFixed(1)} MB`;

export function Attachments({ session, ticket, attempt, changed }: Props) {
  const [sent, setSent] = useState<number | null>(null);
  const upload = (e: Event) => {
    const input = e.currentTarget as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    void attempt(async () => {
      setSent(0);
      try {
        await attach(session, ticket.ticket_id, file, setSent);
        await changed();
      } finally {
        setSent(null);
        input.value = "";
      }
    });
  };
  return (
    <div data-testid="attachments">
      <h3>{t("attachments")}</h3>
      <ul class="results">
        {ticket.attachments.map((a) => {
          const name = String(a["name"] ?? "");
          return (
            <li>
              <button
                class="link" type="button"
                onClick={() => void attempt(() => downloadAttachment(session, ticket.ticket_id, String(a["attachment_id"]), name))}
              >
                {name}
              </button>{" "}
              <small>{size(Number(a["size"] ?? 0))} · {String(a["created_by"] ?? "")}</small>
            </li>
          );
        })}
      </ul>
      <label class="inline">
        {t("attachFile")} <input type="file" onChange={upload} disabled={sent !== null} />
      </label>
      {sent !== null && <progress max={1} value={sent} aria-label={t("uploading")} data-testid="upload-progress" />}
    </div>
  );
}
