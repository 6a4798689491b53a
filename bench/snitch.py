"""snitch benchmark: 5,000 agents, 200 queues in 20 lines, events at 500/s, 500 wallboard screens.

    .venv/bin/python bench/snitch.py [--seconds 30] [--rate 500] [--clients 500] [--backlog 30000]

Its own NATS, Redis and PostgreSQL; snitch runs as a process of its own (python -m callisto_snitch).
1. History insert rate: a backlog of queue steps and agent states is put in the stream before snitch
   starts; rows/s = backlog / time until PostgreSQL holds every row.
2. 500 WebSocket screens (each one line plus the probe queue) while events arrive at ``--rate``/s:
   a probe caller enters the queue ``probe`` twice a second; staleness = when a screen first shows
   it minus when it was published. ``push_clients`` = screens that got a push in at least 95 % of
   the seconds.
3. Snapshot build time: the board (same size, a day's events) built into a wallboard snapshot 300
   times in this process, one at a time; percentiles in ms.
Last line: one JSON object with the figures beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import websockets
import yaml
from prometheus_client import CollectorRegistry

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import ManagedProcess, free_port
from callisto_devkit.servers import NatsServer, PostgresServer, RedisServer
from callisto_protocol.agents import AgentState, AgentStateChanged
from callisto_protocol.queues import QueueCallEvent, QueueCallKind
from callisto_runtime import Bus
from callisto_runtime.metrics import BusMetrics
from callisto_snitch.board import Board
from callisto_snitch.definitions import Definitions

GOALS = {"snapshot_p99_ms": 50.0, "staleness_p99_s": 1.5, "history_rows_per_s": 5000.0, "push_clients": 500}
AGENTS, QUEUES, LINES = 5000, 200, 20
K, S = QueueCallKind, AgentState


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def definitions() -> dict[str, Any]:
    per_line = QUEUES // LINES
    return {
        "queues": {f"q{i}": {"name": f"Queue {i}"} for i in range(QUEUES)} | {"probe": {"name": "Probe"}},
        "lines": {
            f"line{n}": {
                "name": f"Line {n}",
                "queues": [f"q{i}" for i in range(n * per_line, (n + 1) * per_line)],
            }
            for n in range(LINES)
        },
    }


class Traffic:
    """Calls through queues and agents through states, as queue-manager would publish them."""

    def __init__(self) -> None:
        self.seq = [0] * AGENTS
        self.calls = 0
        self.rng = random.Random(7)

    def now(self) -> datetime:
        return datetime.now(UTC)

    def agent(self, i: int, state: AgentState, call_id: str | None = None) -> AgentStateChanged:
        self.seq[i] += 1
        return AgentStateChanged(
            agent_id=f"agent-{i}", seq=self.seq[i], state=state, since=self.now(), name=f"Agent {i}",
            call_id=call_id, queues=[f"q{i % QUEUES}", f"q{(i + 1) % QUEUES}"],
        )  # fmt: skip

    def call(self) -> list[Any]:
        """One call's five steps and its agent's three changes (eight events)."""
        self.calls += 1
        call_id, queue = f"call-{self.calls}", f"q{self.rng.randrange(QUEUES)}"
        agent = self.rng.randrange(AGENTS)
        wait = self.rng.uniform(0, 60)

        def step(kind: QueueCallKind, **more: Any) -> QueueCallEvent:
            return QueueCallEvent(queue_id=queue, step=kind, call_id=call_id, at=self.now(), **more)

        return [
            step(K.ENQUEUED),
            step(K.OFFERED, agent_id=f"agent-{agent}"),
            step(K.ANSWERED, agent_id=f"agent-{agent}", waited_s=wait),
            self.agent(agent, S.ON_CALL, call_id),
            step(K.ENDED, agent_id=f"agent-{agent}"),
            self.agent(agent, S.WRAP_UP, call_id),
            self.agent(agent, S.READY),
            step(K.ENQUEUED) if self.rng.random() < 0.1 else step(K.MISSED, agent_id=f"agent-{agent}"),
        ]


async def publish(bus: Bus, events: list[Any], chunk: int = 2000) -> None:
    """Put events in the stream as fast as the outbox delivers them (it holds 10,000 at most)."""
    for first in range(0, len(events), chunk):
        for event in events[first : first + chunk]:
            await bus.publish(event)
        await bus.outbox.wait_empty(60)


async def history_phase(bus: Bus, traffic: Traffic, backlog: int) -> list[Any]:
    events = [traffic.agent(i, S.READY) for i in range(AGENTS)]
    while len(events) < backlog:
        events.extend(traffic.call())
    await publish(bus, events)
    return events


async def wait_rows(dsn: str, expected: int, timeout: float) -> tuple[int, float]:
    """From the first rows seen to all of them: (rows written meanwhile, seconds)."""
    conn = await asyncpg.connect(dsn)
    started = time.perf_counter()
    first: tuple[int, float] | None = None
    try:
        while time.perf_counter() - started < timeout:
            try:
                rows = await conn.fetchval(
                    "SELECT (SELECT count(*) FROM history.queue_log)"
                    " + (SELECT count(*) FROM history.agent_states)"
                )
            except asyncpg.UndefinedTableError:
                rows = 0
            if rows and first is None:
                first = (rows, time.perf_counter())
            if rows >= expected and first is not None:
                return rows - first[0], time.perf_counter() - first[1]
            await asyncio.sleep(0.05)
    finally:
        await conn.close()
    raise SystemExit(f"history did not reach {expected} rows in {timeout} s")


async def screens(
    base: str, clients: int, seconds: float, probes: dict[int, float]
) -> tuple[list[float], int]:
    """Connect ``clients`` screens; returns the staleness of each probe on each screen and how many
    screens were pushed to in at least 95 % of the seconds."""
    stale: list[float] = []
    pushes: list[set[int]] = [set() for _ in range(clients)]
    ws_base = base.replace("http://", "ws://")
    stop = asyncio.Event()

    async def screen(n: int) -> None:
        seen = 0
        async with websockets.connect(
            f"{ws_base}/wallboard/ws?lines=line{n % LINES}&queues=probe", max_size=None
        ) as ws:
            while not stop.is_set():
                try:
                    text = await asyncio.wait_for(ws.recv(), 1.0)
                except TimeoutError:
                    continue
                now = time.time()
                pushes[n].add(int(now))
                offered = json.loads(text)["queues"].get("probe", {}).get("offered", 0)
                for probe in range(seen + 1, offered + 1):
                    if probe in probes:
                        stale.append(now - probes[probe])
                seen = max(seen, offered)

    tasks = [asyncio.create_task(screen(n)) for n in range(clients)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    window = range(int(time.time() - seconds + 3), int(time.time() - 1))
    steady = sum(1 for p in pushes if len([s for s in window if s in p]) >= 0.95 * len(window))
    return stale, steady


async def load_phase(bus: Bus, traffic: Traffic, base: str, args: argparse.Namespace) -> dict[str, Any]:
    probes: dict[int, float] = {}
    watching = asyncio.create_task(screens(base, args.clients, args.seconds + 4, probes))
    await asyncio.sleep(3)  # the screens connect
    sent, started = 0, time.perf_counter()
    probe = 0
    pending: list[Any] = []
    next_probe = started
    while time.perf_counter() - started < args.seconds:
        due = int((time.perf_counter() - started) * args.rate)
        while sent < due:
            if not pending:
                pending = traffic.call()
            await bus.publish(pending.pop(0))
            sent += 1
        if time.perf_counter() >= next_probe:
            probe += 1
            probes[probe] = time.time()
            await bus.publish(
                QueueCallEvent(
                    queue_id="probe", step=K.ENQUEUED, call_id=f"probe-{probe}", at=datetime.now(UTC)
                )
            )
            next_probe += 0.5
        await asyncio.sleep(0.005)
    rate = sent / (time.perf_counter() - started)
    stale, steady = await watching
    return {"events_per_s": round(rate, 1), "stale": stale, "steady": steady, "probes": probe}


def snapshot_phase(calls: int) -> list[float]:
    board = Board(Definitions.model_validate(definitions()))
    traffic = Traffic()
    now = time.time()
    for i in range(AGENTS):
        board.apply(traffic.agent(i, S.READY), now)
    for _ in range(calls):
        for event in traffic.call():
            board.apply(event, now)
    times = []
    for _ in range(300):
        started = time.perf_counter()
        board.snapshot(time.time())
        times.append((time.perf_counter() - started) * 1000)
        for event in traffic.call():
            board.apply(event, time.time())
    return times


async def main(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="snitch-bench-"))
    nats, redis_server, postgres = (
        NatsServer(store_dir=work / "nats").start(),
        RedisServer().start(),
        PostgresServer().start(),
    )
    issuer = TestIssuer({"snitch": []})
    await issuer.start(nats.url)
    bus = Bus("queue-manager", "bench", BusMetrics(CollectorRegistry()))
    await bus.start(nats.url)
    await bus.wait_connected(10)
    process: ManagedProcess | None = None
    try:
        traffic = Traffic()
        backlog = await history_phase(bus, traffic, args.backlog)
        print(f"backlog of {len(backlog)} events in the stream")
        dsn = postgres.create_database("snitch_bench")
        (work / "kpi.yaml").write_text(yaml.safe_dump(definitions()))
        port = free_port()
        env = {
            **os.environ, "CALLISTO_SNITCH_NATS_URL": nats.url, "CALLISTO_SNITCH_HTTP_PORT": str(port),
            "CALLISTO_SNITCH_REDIS_URL": redis_server.url, "CALLISTO_SNITCH_DATABASE_URL": dsn,
            "CALLISTO_SNITCH_DEFINITIONS_FILE": str(work / "kpi.yaml"), "CALLISTO_SNITCH_MODE": "development",
        }  # fmt: skip
        started = time.perf_counter()
        process = ManagedProcess.spawn(
            "snitch", [sys.executable, "-m", "callisto_snitch"], work / "snitch.log", env=env
        )
        rows, drained = await wait_rows(dsn, len(backlog), 300)
        rows_per_s = rows / drained
        print(
            f"history: {rows} rows in {drained:.2f} s after the first ones "
            f"(snitch started {time.perf_counter() - started:.1f} s ago)"
        )
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as http:
            for _ in range(600):
                if (await http.get(f"{base}/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
        load = await load_phase(bus, traffic, base, args)
        stale = load["stale"]
        print(
            f"load: {load['events_per_s']} events/s for {args.seconds} s, {args.clients} screens, "
            f"{load['probes']} probes seen {len(stale)} times; staleness p50 {percentile(stale, 0.5):.3f} s, "
            f"p99 {percentile(stale, 0.99):.3f} s, max {max(stale, default=float('nan')):.3f} s; "
            f"{load['steady']} screens pushed to every second"
        )
    finally:
        if process is not None:
            process.stop()
        await bus.close()
        await issuer.stop()
        for server in (nats, redis_server, postgres):
            server.stop()
    times = snapshot_phase(args.day_calls)
    print(
        f"snapshot of {AGENTS} agents, {QUEUES} queues, {LINES} lines after {args.day_calls} calls: "
        f"p50 {percentile(times, 0.5):.2f} ms, p99 {percentile(times, 0.99):.2f} ms"
    )
    figures = {
        "snapshot_p99_ms": round(percentile(times, 0.99), 2),
        "push_clients": load["steady"],
        "staleness_p99_s": round(percentile(stale, 0.99), 3),
        "history_rows_per_s": round(rows_per_s),
        "events_per_s": load["events_per_s"],
    }
    return {**figures, **{f"goal_{k}": v for k, v in GOALS.items()}}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rate", type=float, default=500)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--backlog", type=int, default=30000)
    parser.add_argument("--day-calls", type=int, default=20000)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
