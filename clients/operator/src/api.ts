// Every service's HTTP API through core-bus's origin (/svc/<service>/api/...), with the signed-in
// person's own token. A refusal keeps the service's problem details (RFC 9457).

export class Problem extends Error {
  constructor(
    readonly status: number,
    readonly errorId: string,
    detail: string,
  ) {
    super(detail);
  }
}

export type Service = "auth" | "queue-manager" | "call-manager" | "helpdesk" | "snitch" | "core-bus";

export async function call<T>(
  service: Service, path: string, init: { method?: string; body?: unknown; token?: string | null } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (init.token) headers["Authorization"] = `Bearer ${init.token}`;
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(`/svc/${service}/api/${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  if (answer.status === 204) return undefined as T;
  const body: unknown = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    const problem = body as { error_id?: string; detail?: string; title?: string };
    throw new Problem(answer.status, problem.error_id ?? "error", problem.detail ?? problem.title ?? answer.statusText);
  }
  return body as T;
}
