"""Expected wait, from observed handle times and the agents staffed.

Model (stated in the README): each staffed agent frees up once per average handle time (AHT = talk +
wrap-up: the plain mean of the queue's first calls blended with its ``default_handle_s`` until
``WARM_UP`` calls were handled, then an exponentially weighted mean of recent calls). A caller at
position k, with r agents ready now and n staffed (logged in and not in "not ready"), waits about

    0                      when k ≤ r
    (k - r) x AHT ÷ n      otherwise

and nothing can be promised while nobody is staffed (None). This is the mean of a deterministic
service model; Erlang C (``erlang_c_wait``) gives the mean wait of a random arrival for the queue as
a whole, reported beside it in the queue's statistics.
"""

from __future__ import annotations

import math

WARM_UP = 10
ALPHA = 0.1  # weight of the newest handle time


class HandleTime:
    def __init__(self, default_s: float) -> None:
        self.default_s = default_s
        self.mean_s = default_s
        self.count = 0

    def observe(self, seconds: float) -> None:
        self.count += 1
        weight = max(ALPHA, 1.0 / self.count)  # a plain mean first, then recent calls weigh most
        self.mean_s += weight * (max(0.0, seconds) - self.mean_s)

    @property
    def aht_s(self) -> float:
        if self.count >= WARM_UP:
            return self.mean_s
        return (self.default_s * (WARM_UP - self.count) + self.mean_s * self.count) / WARM_UP


def expected_wait(position: int, ready: int, staffed: int, aht_s: float) -> float | None:
    if staffed <= 0:
        return None
    if position <= ready:
        return 0.0
    return (position - ready) * aht_s / staffed


def erlang_c_wait(arrivals_per_s: float, aht_s: float, agents: int) -> float | None:
    """Mean wait of a random arrival (Erlang C); None when the agents cannot keep up."""
    if agents <= 0:
        return None
    load = arrivals_per_s * aht_s  # in Erlangs
    if load <= 0:
        return 0.0
    if load >= agents:
        return None
    # Erlang B by recurrence (stable for large agent counts), then C from B
    b = 1.0
    for k in range(1, agents + 1):
        b = load * b / (k + load * b)
    c = agents * b / (agents - load * (1 - b))
    wait = c * aht_s / (agents - load)
    return wait if math.isfinite(wait) else None
