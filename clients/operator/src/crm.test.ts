import { describe, expect, it } from "vitest";
import { crmMessage, crmOrigin, crmUrl } from "./crm";

const facts = { call_id: "c-1", caller: "+7 916 555-12-34", contact_id: "ct 9", agent_id: null };

describe("the embedded CRM", () => {
  it("fills the URL template with the call's facts, encoded, and nothing for what is unknown", () => {
    const url = crmUrl("https://crm.example/card?phone={caller}&c={contact_id}&call={call_id}&a={agent_id}", facts);
    expect(url).toBe("https://crm.example/card?phone=%2B7%20916%20555-12-34&c=ct%209&call=c-1&a=");
  });

  it("says each step with the call's facts, and only to the frame's origin", () => {
    expect(crmMessage("call.answered", facts)).toEqual({ source: "callisto", type: "call.answered", ...facts });
    expect(crmOrigin("https://crm.example:8443/card?x={caller}", "http://127.0.0.1:8100/")).toBe("https://crm.example:8443");
    expect(crmOrigin("/assets/crm-example.html?x={caller}", "http://127.0.0.1:8100/")).toBe("http://127.0.0.1:8100");
  });
});
