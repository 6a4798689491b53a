"""A token bucket per source address: INVITE floods from one source get 503 without costing a call."""

from __future__ import annotations

import time
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        rate_per_s: float,
        *,
        burst: float,
        clock: Callable[[], float] = time.monotonic,
        sources: int = 10_000,
    ) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.clock = clock
        self.sources = sources
        self._buckets: dict[str, tuple[float, float]] = {}  # source -> (tokens, at)

    def allow(self, source: str) -> bool:
        now = self.clock()
        tokens, at = self._buckets.get(source, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        allowed = tokens >= 1
        self._buckets[source] = (tokens - 1 if allowed else tokens, now)
        if len(self._buckets) > self.sources:  # forget the quietest half rather than grow forever
            keep = sorted(self._buckets.items(), key=lambda item: item[1][1])[self.sources // 2 :]
            self._buckets = dict(keep)
        return allowed
