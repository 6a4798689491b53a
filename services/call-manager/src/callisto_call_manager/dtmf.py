"""rtpengine's DTMF reports (``--dtmf-log-dest``): one JSON datagram per key press,
``{"callid": ..., "source_tag": ..., "event": 5, ...}``; events 10 and 11 are * and #."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)
KEYS = "0123456789*#ABCD"

Listener = Callable[[str, str, str], None]  # call id, source tag, key


def key_of(report: dict[str, Any]) -> str | None:
    event = report.get("event")
    if isinstance(event, int) and 0 <= event < len(KEYS):
        return KEYS[event]
    return None


class DtmfReports(asyncio.DatagramProtocol):
    def __init__(self, listener: Listener) -> None:
        self.listener = listener
        self.stats: Counter[str] = Counter()
        self.transport: asyncio.DatagramTransport | None = None

    async def listen(self, host: str, port: int) -> DtmfReports:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        self.transport = transport
        return self

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        try:
            report = json.loads(data)
            key = key_of(report)
            call_id, tag = str(report["callid"]), str(report.get("source_tag", ""))
        except (ValueError, KeyError, TypeError):
            self.stats["malformed"] += 1
            return
        if key is None or report.get("type", "DTMF") != "DTMF":
            self.stats["ignored"] += 1
            return
        self.stats["keys"] += 1
        self.listener(call_id, tag, key)
