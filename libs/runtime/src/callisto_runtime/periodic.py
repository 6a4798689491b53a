"""Work repeated at a fixed interval, whose failures are logged and never end the loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


def periodic(
    seconds: float, work: Callable[[], Awaitable[None]], what: str, *, fixed_rate: bool = False
) -> asyncio.Task[None]:
    """Run ``work`` every ``seconds`` (after a first wait) until the returned task is cancelled.
    With ``fixed_rate`` the runs keep to a fixed beat whatever each one takes (a run that overran the
    beat is followed at the next one), else each wait starts when the previous run ends."""

    async def loop() -> None:
        loop_time = asyncio.get_running_loop().time
        due = loop_time()
        while True:
            if fixed_rate:
                due += seconds
                now = loop_time()
                if due < now:
                    due = now + seconds - (now - due) % seconds
                await asyncio.sleep(due - now)
            else:
                await asyncio.sleep(seconds)
            try:
                await work()
            except Exception:
                log.exception("%s failed", what)

    return asyncio.create_task(loop(), name=what)
