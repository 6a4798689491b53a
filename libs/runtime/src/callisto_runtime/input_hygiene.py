"""Refuse control characters at the HTTP edge, before any route sees them.

NUL and the other C0 controls (tab, line feed and carriage return excepted) and DEL have no place in
a path, a query or a JSON text: PostgreSQL refuses NUL in text, and the others end up in mail
headers, logs and screens. A request carrying one gets a 422 problem (``control-character``) naming
where it was; nothing is stored. JSON bodies are read for escaped controls (``\\u0000``); other
bodies (files, audio) are the route's business.
"""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callisto_runtime.problems import send_problem

_RAW_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# an escape that is not itself escaped: an odd run of backslashes before "u00XX" naming a control
_ESCAPED_CONTROL = re.compile(rb"(?<!\\)(?:\\\\)*\\u00(?:0[0-8bBcCeEfF]|1[0-9a-fA-F]|7[fF])")


def has_control(data: bytes | bytearray) -> bool:
    return _RAW_CONTROL.search(data) is not None


class InputHygieneMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope.get("path", "").encode()
        if has_control(unquote_to_bytes(raw_path)):
            await _refuse(send, "path")
            return
        query = scope.get("query_string", b"")
        if has_control(unquote_to_bytes(query.replace(b"+", b" "))):
            await _refuse(send, "query")
            return
        headers = dict(scope.get("headers") or [])
        if b"json" not in headers.get(b"content-type", b""):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        buffered: list[Message] = []
        while True:  # the body limit in front of us bounds this
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        if has_control(body) or _ESCAPED_CONTROL.search(body):
            await _refuse(send, "body")
            return

        async def replay() -> Message:
            return buffered.pop(0) if buffered else await receive()

        await self.app(scope, replay, send)


async def _refuse(send: Send, where: str) -> None:
    detail = f"the request's {where} holds a control character (NUL, ESC, ...)"
    await send_problem(send, 422, "control-character", detail, where=where)
