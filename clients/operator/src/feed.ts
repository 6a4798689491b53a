// The connection to core-bus's gateway: authenticate, take the snapshot and the events into Live,
// renew the token on the socket, and connect again with back-off (1, 2, 4 ... 15 s) whenever the
// socket closes or a stream skips a number (a fresh snapshot then replaces what was known).
import { Live, type GatewayMessage } from "./live";

export type Link = "connecting" | "live" | "offline" | "refused";

export class Feed {
  live = new Live();
  link: Link = "connecting";
  private socket: WebSocket | null = null;
  private token: string | null = null;
  private attempt = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly changed: () => void) {}

  start(token: string): void {
    this.token = token;
    this.stopped = false;
    this.open();
  }

  /** A renewed access token: the gateway takes it on the open socket. */
  renew(token: string): void {
    this.token = token;
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ type: "auth", token }));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.socket?.close(1000);
    this.socket = null;
  }

  private open(): void {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/ws`;
    const socket = new WebSocket(url);
    this.socket = socket;
    this.set("connecting");
    socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: this.token }));
    socket.onmessage = (message: MessageEvent<string>) => {
      const parsed = JSON.parse(message.data) as GatewayMessage;
      if (this.live.apply(parsed) === "gap") {
        socket.close(4000, "resync");
        return;
      }
      if (parsed.type === "hello") this.attempt = 0;
      this.set("live");
    };
    socket.onclose = (closed: CloseEvent) => {
      if (this.socket !== socket || this.stopped) return;
      this.set(closed.code === 4401 || closed.code === 4403 ? "refused" : "offline");
      const delay = Math.min(15_000, 1000 * 2 ** this.attempt++);
      this.retry = setTimeout(() => this.open(), delay);
    };
  }

  private set(link: Link): void {
    this.link = link;
    this.changed();
  }
}
