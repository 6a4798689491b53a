// The right-hand frame: the deployment's CRM by its URL template, opened for each call offered and
// told of the call's steps by postMessage (crm.ts). The caller's contact comes from helpdesk's lookup.
import { useEffect, useRef } from "preact/hooks";
import { call } from "../api";
import type { components } from "../api/helpdesk";
import { crmMessage, crmOrigin, crmUrl, type CallFacts, type CrmMessage, type CrmStep } from "../crm";
import { t } from "../i18n";
import type { Line } from "../phone";
import type { Session } from "../session";

type ContactMatch = components["schemas"]["ContactMatch"];

/** What the frame shows and is told: the current call's facts and its steps so far. */
export class CrmFeed {
  facts: CallFacts | null = null;
  messages: CrmMessage[] = [];
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly changed: () => void) {}

  step(step: CrmStep, line: Line, agentId: string | null, session: Session): void {
    const [callId, caller] = [line.callId ?? "", line.from];
    this.pending = this.pending.then(async () => {
      if (step === "call.offered" || this.facts?.call_id !== callId) {
        // the contact the IVR recognised (in the INVITE), else helpdesk's lookup of the number
        const contactId =
          line.caller?.contactId ??
          (await call<ContactMatch>("helpdesk", `v1/contacts/lookup?number=${encodeURIComponent(caller)}`, {
            token: session.access,
          })
            .then((match) => match.contact?.contact_id ?? null)
            .catch(() => null));
        this.facts = { call_id: callId, caller, contact_id: contactId, agent_id: agentId };
        this.messages = [];
      }
      this.messages = [...this.messages, crmMessage(step, this.facts!)];
      this.changed();
    });
  }
}

export function CrmFrame({ template, feed, agentId }: { template: string; feed: CrmFeed; agentId: string | null }) {
  const frame = useRef<HTMLIFrameElement>(null);
  const loaded = useRef(false);
  const sent = useRef(0);
  const url = crmUrl(template, feed.facts ?? { call_id: "", caller: "", contact_id: null, agent_id: agentId });
  const origin = crmOrigin(template, location.href);

  const flush = () => {
    const target = frame.current?.contentWindow;
    if (!target || !loaded.current) return;
    for (const message of feed.messages.slice(sent.current)) target.postMessage(message, origin);
    sent.current = feed.messages.length;
  };
  useEffect(() => {
    loaded.current = false;
    sent.current = 0;
  }, [url]);
  useEffect(flush);

  return (
    <section class="crm" aria-label={t("crm")}>
      <iframe
        ref={frame}
        src={url}
        title={t("crm")}
        data-testid="crm"
        sandbox="allow-scripts allow-forms allow-popups allow-same-origin"
        onLoad={() => {
          loaded.current = true;
          flush();
        }}
      />
    </section>
  );
}
