// Signing in and staying signed in: the access token is renewed with the refresh token (rotated by
// auth at each use) before it expires; a failed renewal ends the session ("expired": a call going on
// is kept until it ends). The refresh token stays in sessionStorage, so a reload of the tab keeps the
// session and closing it ends it.
import { call } from "./api";
import type { components } from "./api/auth";

type TokenPair = components["schemas"]["TokenPair"];
const KEPT = "callisto.refresh";
export type Ended = "signed-out" | "expired";

export class Session {
  access: string | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly changed: (access: string | null, ended?: Ended) => void) {}

  async signIn(username: string, password: string): Promise<void> {
    this.take(await call<TokenPair>("auth", "v1/token", { body: { username, password } }));
  }

  /** Sign in again from a kept refresh token (a reload); false when there is none or it is spent. */
  async resume(): Promise<boolean> {
    const kept = sessionStorage.getItem(KEPT);
    if (!kept) return false;
    try {
      this.take(await call<TokenPair>("auth", "v1/token", { body: { refresh_token: kept } }));
      return true;
    } catch {
      sessionStorage.removeItem(KEPT);
      return false;
    }
  }

  async signOut(): Promise<void> {
    const kept = sessionStorage.getItem(KEPT);
    this.forget("signed-out");
    if (kept) await call("auth", "v1/token", { method: "DELETE", body: { refresh_token: kept } }).catch(() => undefined);
  }

  private take(pair: TokenPair): void {
    this.access = pair.access_token;
    sessionStorage.setItem(KEPT, pair.refresh_token);
    clearTimeout(this.timer);
    // renew at four fifths of the access token's life
    this.timer = setTimeout(() => void this.renew(), Math.max(1, pair.expires_in * 800));
    this.changed(this.access);
  }

  private async renew(): Promise<void> {
    if (!(await this.resume())) this.forget("expired");
  }

  private forget(ended: Ended): void {
    clearTimeout(this.timer);
    this.access = null;
    sessionStorage.removeItem(KEPT);
    this.changed(null, ended);
  }
}
