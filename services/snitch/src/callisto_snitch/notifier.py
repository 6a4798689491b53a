"""The wallboard's push: every connected screen gets its selection of the latest snapshot each tick.

Screens that asked for the same lines and queues share one encoded message. A screen that does not
take a message within ``SEND_TIMEOUT_S`` is dropped (its page reconnects by itself), so one slow
screen never holds up the others."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket

log = logging.getLogger(__name__)
SEND_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class Selection:
    lines: tuple[str, ...]
    queues: tuple[str, ...]

    def pick(self, snapshot: dict[str, Any], status: dict[str, Any]) -> dict[str, Any]:
        return {
            **status,
            "at": snapshot["at"],
            "lines": {k: snapshot["lines"][k] for k in self.lines if k in snapshot["lines"]},
            "queues": {k: snapshot["queues"][k] for k in self.queues if k in snapshot["queues"]},
        }


class Notifier:
    def __init__(self) -> None:
        self.screens: dict[WebSocket, Selection] = {}
        self.pushes = 0
        self.dropped = 0

    def add(self, socket: WebSocket, selection: Selection) -> None:
        self.screens[socket] = selection

    def remove(self, socket: WebSocket) -> None:
        self.screens.pop(socket, None)

    async def push(self, snapshot: dict[str, Any], status: dict[str, Any]) -> None:
        if not self.screens:
            return
        encoded: dict[Selection, str] = {}
        sends = []
        for socket, selection in list(self.screens.items()):
            text = encoded.get(selection)
            if text is None:
                text = encoded[selection] = json.dumps(selection.pick(snapshot, status))
            sends.append(self._send(socket, text))
        await asyncio.gather(*sends)
        self.pushes += 1

    async def _send(self, socket: WebSocket, text: str) -> None:
        try:
            await asyncio.wait_for(socket.send_text(text), SEND_TIMEOUT_S)
        except Exception as exc:  # gone or too slow: its page reconnects
            log.debug("wallboard screen dropped: %r", exc)
            self.dropped += 1
            self.remove(socket)
            try:
                await socket.close()
            except Exception as close_exc:
                log.debug("closing a dropped screen: %r", close_exc)
