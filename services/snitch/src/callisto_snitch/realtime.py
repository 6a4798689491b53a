"""The real-time side: the board fed from the event stream, refreshed once a second into the Redis
tables, the wallboard screens and the metrics.

At start the board is rebuilt from ``CC_EVENTS``: every queue step and agent state change since the
start of the business day, and the last state of every agent (for agents who have not changed since
yesterday). Then the same readers follow new events. So a restarted snitch has today's exact figures
again, a flushed Redis is written again from the board, and neither depends on the other."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Histogram

from callisto_protocol import Envelope, Event
from callisto_protocol.agents import AgentStateChanged
from callisto_protocol.queues import QueueCallEvent
from callisto_runtime import Bus
from callisto_runtime.replay import StreamReplay
from callisto_snitch.board import Board
from callisto_snitch.notifier import Notifier
from callisto_snitch.tables import Tables

log = logging.getLogger(__name__)


class RealTime:
    def __init__(self, bus: Bus, board: Board, tables: Tables, notifier: Notifier, registry: Any) -> None:
        self.bus = bus
        self.board = board
        self.tables = tables
        self.notifier = notifier
        self.latest: dict[str, Any] = board.snapshot(time.time())
        self.down_since: float | None = None
        self.replays: list[StreamReplay] = []
        self.seed: StreamReplay | None = None
        self.build_seconds = Histogram(
            "callisto_snitch_snapshot_seconds", "time to build one snapshot of the board",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25), registry=registry,
        )  # fmt: skip

    def on_event(self, event: Event, _: Envelope) -> None:
        self.board.apply(event, time.time())

    async def start(self) -> None:
        now = time.time()
        self.board.roll(now)
        since = datetime.fromtimestamp(self.board.day_start, UTC)
        self.seed = StreamReplay(
            self.bus, AgentStateChanged.subscription(), self.on_event, last_per_subject=True
        )
        self.replays = [
            StreamReplay(self.bus, QueueCallEvent.subscription(), self.on_event, since=since),
            StreamReplay(self.bus, AgentStateChanged.subscription(), self.on_event, since=since),
        ]
        await self.seed.start()
        for replay in self.replays:
            await replay.start()

    async def stop(self) -> None:
        for replay in [*self.replays, *([self.seed] if self.seed else [])]:
            await replay.stop()

    def caught_up(self) -> bool:
        return bool(self.replays) and all(r.caught_up.is_set() for r in self.replays)

    async def settle_seed(self) -> None:
        """The last states of agents are needed once: stop that reader when it has given them."""
        if self.seed is not None and self.seed.caught_up.is_set():
            await self.seed.stop()
            self.seed = None

    @property
    def malformed(self) -> int:
        return sum(r.malformed for r in self.replays)

    def status(self) -> dict[str, Any]:
        return {"live": self.down_since is None and self.caught_up(), "down_since": self.down_since}

    async def tick(self) -> None:
        now = time.time()
        if self.bus.connected:
            self.down_since = None
        elif self.down_since is None:
            self.down_since = now
        started = time.perf_counter()
        snapshot = self.board.snapshot(now)
        self.build_seconds.observe(time.perf_counter() - started)
        self.latest = snapshot
        await self.notifier.push(snapshot, self.status())
        await self.settle_seed()

    async def persist(self) -> None:
        """The Redis tables, on a loop of their own: a slow or absent Redis never holds up screens."""
        await self.tables.write(self.board, self.latest, self.latest["at"])
