// A figure asked of a service again and again while the screen shows it (snitch refreshes each second).
import { useEffect, useState } from "preact/hooks";
import { call, type Service } from "./api";
import type { Session } from "./session";

export function usePolled<T>(session: Session, service: Service, path: string | null, every_ms: number): T | null {
  const [found, setFound] = useState<T | null>(null);
  useEffect(() => {
    if (path === null) return;
    let stopped = false;
    const ask = () =>
      void call<T>(service, path, { token: session.access })
        .then((value) => !stopped && setFound(value))
        .catch(() => undefined); // the last figures stay until the service answers again
    ask();
    const timer = setInterval(ask, every_ms);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [service, path]);
  return found;
}
