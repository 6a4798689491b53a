// The browser phone: JsSIP registers with call-manager over SIP over WebSocket using the person's
// access token (RFC 8898: the client never holds a SIP password), renewed with the session. Offers
// ring here; a session the supervisor started (listen, whisper: `Answer-Mode: Auto`) is answered at
// once. Every session gets its own audio player, so a whisper is heard beside the customer.
import { UA, WebSocketInterface } from "jssip";
import type { DTMF_TRANSPORT } from "jssip/lib/Constants";
import type { RTCSession } from "jssip/lib/RTCSession";
import type { IncomingRTCSessionEvent } from "jssip/lib/UA";

export type Registration = "off" | "registering" | "registered" | "failed";
export type LineStep = "offered" | "answered" | "ended";

export interface Line {
  id: string;
  callId: string | null; // Callisto's call id (the INVITE's X-Callisto-Call): screen pop and controls
  from: string; // the caller's number or what the session is ("Whisper: supervisor1")
  caller: { name: string; contactId: string } | null; // whom the IVR recognised (helpdesk's contact)
  state: "ringing" | "talking" | "held";
  muted: boolean;
  automatic: boolean; // a session beside a call (listening, whisper, consult): answered by itself
  session: RTCSession;
}

export class Phone {
  registration: Registration = "off";
  lines: Line[] = [];
  /** Told of each offer, answer and end of a line of one's own (not a supervisor's sessions). */
  onLine: (step: LineStep, line: Line) => void = () => undefined;
  private ua: UA | null = null;
  private stopWhenIdle = false;

  constructor(private readonly changed: () => void) {}

  start(sipUrl: string, login: string, token: string): void {
    this.stop();
    const host = new URL(sipUrl).hostname;
    const ua = new UA({
      sockets: [new WebSocketInterface(sipUrl)], uri: `sip:${login}@${host}`,
      authorization_jwt: `Bearer ${token}`, register: true, register_expires: 300, session_timers: false,
      connection_recovery_min_interval: 1, connection_recovery_max_interval: 15,
    });
    ua.on("registered", () => this.set("registered"));
    ua.on("unregistered", () => this.set("off"));
    ua.on("registrationFailed", () => this.set("failed"));
    ua.on("newRTCSession", (event: IncomingRTCSessionEvent) => {
      if (event.originator !== "remote") return;
      const header = (name: string): string | undefined => event.request.getHeader(name) || undefined;
      const [name, contactId] = [header("X-Callisto-Caller-Name"), header("X-Callisto-Contact")];
      const caller = name && contactId ? { name, contactId } : null;
      this.incoming(event.session, header("Answer-Mode"), header("X-Callisto-Call") ?? null, caller);
    });
    this.ua = ua;
    this.set("registering");
    ua.start();
  }

  /** A renewed access token: the next REGISTER carries it, sent now so the binding lasts. */
  renew(token: string): void {
    if (!this.ua) return;
    this.ua.set("authorization_jwt", `Bearer ${token}`);
    this.ua.register();
  }

  /** The session ended while a call goes on: the phone stays until its last line ends. */
  stopAfterCalls(): void {
    if (this.lines.some((line) => line.state !== "ringing")) this.stopWhenIdle = true;
    else this.stop();
  }

  stop(): void {
    this.stopWhenIdle = false;
    for (const line of this.lines) if (!line.session.isEnded()) line.session.terminate();
    this.ua?.stop();
    this.ua = null;
    this.lines = [];
    this.set("off");
  }

  /** A call of one's own ringing here (not a session beside a call), if any. */
  offered(): Line | undefined {
    return this.lines.find((line) => line.state === "ringing" && !line.automatic);
  }

  answer(line: Line): void {
    line.session.answer({ mediaConstraints: { audio: true, video: false } });
  }

  hangUp(line: Line): void {
    line.session.terminate();
  }

  toggleMute(line: Line): void {
    if (line.muted) line.session.unmute({ audio: true });
    else line.session.mute({ audio: true });
    line.muted = !line.muted;
    this.changed();
  }

  keys(line: Line, tones: string): void {
    line.session.sendDTMF(tones, { transportType: "RFC2833" as DTMF_TRANSPORT }); // in the media, as trunks expect
  }

  private incoming(session: RTCSession, answerMode: string | undefined, callId: string | null, caller: Line["caller"]): void {
    const identity = session.remote_identity;
    // Answer-Mode: Auto is answered at once: a session beside a call, or a call handed over after a
    // consult (it names the call, and is then a call like any other)
    const auto = (answerMode ?? "").toLowerCase() === "auto";
    const line: Line = {
      id: session.id, callId, from: identity.display_name || identity.uri.user || "", caller, state: "ringing", muted: false,
      automatic: auto && callId === null, session,
    };
    this.lines = [...this.lines, line];
    session.on("peerconnection", ({ peerconnection }) => {
      peerconnection.addEventListener("track", (e: RTCTrackEvent) => play(session, e.streams[0]));
    });
    session.on("confirmed", () => {
      this.update(line, "talking");
      if (!line.automatic) this.onLine("answered", line);
    });
    session.on("hold", () => this.update(line, "held"));
    session.on("unhold", () => this.update(line, "talking"));
    for (const end of ["ended", "failed"] as const) {
      session.on(end, () => {
        this.lines = this.lines.filter((l) => l !== line);
        if (!line.automatic) this.onLine("ended", line);
        if (this.stopWhenIdle && this.lines.length === 0) this.stop();
        this.changed();
      });
    }
    if (!line.automatic) this.onLine("offered", line);
    if (auto) this.answer(line);
    this.changed();
  }

  private update(line: Line, state: Line["state"]): void {
    line.state = state;
    this.changed();
  }

  private set(registration: Registration): void {
    this.registration = registration;
    this.changed();
  }
}

function play(session: RTCSession, stream: MediaStream | undefined): void {
  if (!stream) return;
  const player = document.createElement("audio");
  player.autoplay = true;
  player.srcObject = stream;
  document.body.append(player);
  session.on("ended", () => player.remove());
  session.on("failed", () => player.remove());
}
