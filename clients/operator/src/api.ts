// Every service's HTTP API through core-bus's origin (/svc/<service>/api/...), with the signed-in
// person's own token. A refusal keeps the service's problem details (RFC 9457). A read answered 503
// (no ready instance yet, a standby taking over) is asked again after 0.5, 1 and 2 s.

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly errorId: string,
    detail: string,
  ) {
    super(detail);
  }
}

export type Service = "auth" | "queue-manager" | "call-manager" | "helpdesk" | "snitch" | "core-bus" | "recording";

const RETRIES_MS = [500, 1000, 2000];

type Init = { method?: string; body?: unknown; token?: string | null };

export async function call<T>(service: Service, path: string, init: Init = {}): Promise<T> {
  return (await answered(service, path, init)).body as T;
}

/** One page of a list, and how many there are in all (the X-Total-Count header). */
export async function page<T>(service: Service, path: string, token: string | null): Promise<{ items: T[]; total: number }> {
  const { body, headers } = await answered(service, path, { token });
  const items = body as T[];
  return { items, total: Number(headers.get("X-Total-Count") ?? items.length) };
}

async function answered(service: Service, path: string, init: Init): Promise<{ body: unknown; headers: Headers }> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (init.token) headers["Authorization"] = `Bearer ${init.token}`;
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  const method = init.method ?? (init.body === undefined ? "GET" : "POST");
  const ask = () =>
    fetch(`/svc/${service}/api/${path}`, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  let answer = await ask();
  for (const pause of method === "GET" ? RETRIES_MS : []) {
    if (answer.status !== 503) break;
    await new Promise((resolve) => setTimeout(resolve, pause));
    answer = await ask();
  }
  if (answer.status === 204) return { body: undefined, headers: answer.headers };
  const body: unknown = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    const problem = body as { error_id?: string; detail?: string; title?: string };
    throw new Problem(answer.status, problem.error_id ?? "error", problem.detail ?? problem.title ?? answer.statusText);
  }
  return { body, headers: answer.headers };
}

/** Fetch a file with the person's token and hand it to the browser as a download named ``name``. */
export async function download(url: string, token: string | null, name: string): Promise<void> {
  const answer = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (!answer.ok) {
    const problem = (await answer.json().catch(() => ({}))) as { error_id?: string; detail?: string };
    throw new Problem(answer.status, problem.error_id ?? "error", problem.detail ?? answer.statusText);
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await answer.blob());
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}
