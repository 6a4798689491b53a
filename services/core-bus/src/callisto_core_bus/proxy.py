"""``/svc/{service}/api/...``: the operator client's one origin for every service's HTTP API.

The client is served by core-bus; a browser would need CORS on every service to call them on their
own ports. core-bus knows each instance's address, role and readiness (the registry), so it passes a
request on to a ready instance of the service (the active one of a singleton, any ready one
otherwise, in turn) and the answer back as it came: status, problem details, the headers a client
needs. The person's own bearer token goes with it untouched — the service decides, never core-bus
for them. Only ``api/`` paths are passed on, bodies up to ``MAX_BODY`` bytes.

Problems of its own: 503 ``no-ready-instance``, 502 ``upstream-unreachable``, 504
``upstream-timeout``, 413 ``body-too-large``.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable

import httpx
from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from callisto_core_bus.errors import BodyTooLarge, NoReadyInstance, UpstreamTimeout, UpstreamUnreachable
from callisto_protocol.registry import InstanceRole, InstanceState, InstanceStatus

MAX_BODY = 1 << 20
ASKED = (
    "authorization", "content-type", "accept", "accept-language", "if-match", "if-none-match",
    "range", "if-range",  # audio: parts asked by players
)  # fmt: skip
ANSWERED = (
    "content-type", "etag", "location", "retry-after", "allow", "www-authenticate", "cache-control",
    "content-range", "accept-ranges", "content-disposition", "last-modified", "content-length",
    "content-encoding", "x-total-count",
)  # fmt: skip


class Proxy:
    def __init__(self, instances: Callable[[], list[InstanceStatus]], *, timeout_s: float = 10.0) -> None:
        self.instances = instances
        self.client = httpx.AsyncClient(timeout=timeout_s, follow_redirects=False)
        self._turn = itertools.count()

    async def close(self) -> None:
        await self.client.aclose()

    def target(self, service: str) -> InstanceStatus:
        ready = [
            each for each in self.instances()
            if each.service == service and each.state is InstanceState.ALIVE and each.ready
            and each.role is InstanceRole.ACTIVE and not each.draining and each.http_url
        ]  # fmt: skip
        if not ready:
            raise NoReadyInstance(f"no ready instance of {service!r}", {"service": service})
        return ready[next(self._turn) % len(ready)]

    async def forward(self, service: str, path: str, request: Request) -> Response:
        instance = self.target(service)
        body = await request.body()
        if len(body) > MAX_BODY:
            raise BodyTooLarge(f"a body over {MAX_BODY} bytes is not passed on", {"limit": MAX_BODY})
        headers = {name: value for name, value in request.headers.items() if name in ASKED}
        url = f"{instance.http_url.rstrip('/')}/api/{path}"
        asked = self.client.build_request(
            request.method, url, params=request.query_params, headers=headers, content=body
        )
        try:
            answer = await self.client.send(asked, stream=True)  # audio passes through as it comes
        except httpx.TimeoutException:
            raise UpstreamTimeout(f"{service} did not answer in time", {"service": service}) from None
        except httpx.HTTPError as exc:
            raise UpstreamUnreachable(
                f"{service} is unreachable: {exc!r}"[:300], {"service": service}
            ) from None
        kept = {name: value for name, value in answer.headers.items() if name in ANSWERED}
        return StreamingResponse(passed_on(answer), status_code=answer.status_code, headers=kept)


async def passed_on(answer: httpx.Response) -> AsyncIterator[bytes]:
    """The answer's body as it comes; its connection goes back to the pool however the stream ends
    (a player seeking elsewhere drops the request halfway)."""
    try:
        async for chunk in answer.aiter_raw():
            yield chunk
    finally:
        await answer.aclose()
