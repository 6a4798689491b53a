"""Work repeated at a fixed interval, whose failures are logged and never end the loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


def periodic(seconds: float, work: Callable[[], Awaitable[None]], what: str) -> asyncio.Task[None]:
    """Run ``work`` every ``seconds`` (after a first wait) until the returned task is cancelled."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await work()
            except Exception:
                log.exception("%s failed", what)

    return asyncio.create_task(loop(), name=what)
