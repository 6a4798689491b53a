"""Failover benchmark: how long routing stops when the active queue-manager dies, and what is lost.

    .venv/bin/python bench/failover.py [--rounds N]

Its own NATS and Redis, two queue-manager processes (active and standby, lease TTL 1.5 s), a queue of
10 agents and call-manager's side played on the bus (every offer answered after 50 ms, each call ended
0.5 s later, live calls listed for reconciliation). Calls arrive at 5 per second throughout. Each round
kills the active (SIGKILL, then in other rounds SIGTERM) and measures the time until the next routing
decision (the next ConnectCall from the new active); the killed one comes back as standby before the
next round. At the end: calls accepted but never connected and ended (lost), calls offered to a second
agent while an offer was still out (double offers), agents left reserved. Then the same for
call-manager (``failover_cm.py``): established calls broken by a takeover, and the time until new
INVITEs are answered again.
Last line: one JSON object with the figures beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import httpx
from failover_cm import measure as measure_call_manager
from figures import percentile
from prometheus_client import CollectorRegistry

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import ManagedProcess, free_port
from callisto_devkit.pytest_plugin import spawn_service, wait_http
from callisto_devkit.servers import NatsServer, RedisServer
from callisto_protocol import Envelope
from callisto_protocol.calls import CallState, CallStateChanged
from callisto_protocol.queues import (
    ConnectAccepted,
    ConnectCall,
    ConnectOutcome,
    ConnectResult,
    Enqueue,
    Enqueued,
)
from callisto_protocol.telephony import CallControlled, CancelConnect, ListCalls, LiveCalls
from callisto_runtime import Bus, BusError, RemoteError
from callisto_runtime.metrics import BusMetrics

AGENTS = [f"bench-{n}" for n in range(10)]
LEASE_TTL = 1.5
RATE = 5.0


class CallManagerSide:
    """call-manager as queue-manager sees it: answers offers, ends calls, lists live calls."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.offers: list[tuple[float, str, str]] = []  # (when, call, agent)
        self.out: dict[str, str] = {}  # call -> agent whose offer is out (not yet answered)
        self.live: set[str] = set()
        self.ended: set[str] = set()
        self.double_offers = 0
        self.seq: dict[str, int] = {}

    async def start(self) -> None:
        await self.bus.serve(ConnectCall, self.connect, permission=None)
        await self.bus.serve(CancelConnect, self.cancel, permission=None)
        await self.bus.serve(ListCalls, self.list_calls, permission=None)

    async def connect(self, command: ConnectCall, _: Envelope) -> ConnectAccepted:
        other = self.out.get(command.call_id)
        if other is not None and other != command.agent_id:
            self.double_offers += 1
        self.out[command.call_id] = command.agent_id
        self.offers.append((time.monotonic(), command.call_id, command.agent_id))
        asyncio.get_running_loop().call_later(0.05, lambda: asyncio.ensure_future(self._answer(command)))
        return ConnectAccepted(call_id=command.call_id, agent_id=command.agent_id)

    async def _answer(self, command: ConnectCall) -> None:
        self.out.pop(command.call_id, None)
        self.live.add(command.call_id)
        await self.bus.publish(ConnectOutcome(
            call_id=command.call_id, agent_id=command.agent_id, offer_id=command.offer_id,
            result=ConnectResult.ANSWERED,
        ))  # fmt: skip
        await asyncio.sleep(0.5)
        self.live.discard(command.call_id)
        self.ended.add(command.call_id)
        seq = self.seq.get(command.call_id, 0) + 10
        self.seq[command.call_id] = seq
        await self.bus.publish(CallStateChanged(
            call_id=command.call_id, seq=seq, state=CallState.ENDED, since=datetime.now(UTC),
            agent_id=command.agent_id, queue_id="bench",
        ))  # fmt: skip

    async def cancel(self, command: CancelConnect, _: Envelope) -> CallControlled:
        self.out.pop(command.call_id, None)
        return CallControlled(call_id=command.call_id, state=CallState.QUEUED)

    async def list_calls(self, _: ListCalls, __: Envelope) -> LiveCalls:
        return LiveCalls(calls=[])  # the calls of this side end by themselves; none is half-known

    def next_offer_after(self, moment: float) -> float | None:
        later = [when for when, _, _ in self.offers if when > moment]
        return min(later) if later else None


class Pair:
    """Two queue-manager processes; new ones replace those killed."""

    def __init__(self, nats: NatsServer, redis_url: str, folder: Path) -> None:
        self.nats = nats
        self.redis_url = redis_url
        self.folder = folder
        self.processes: dict[str, tuple[ManagedProcess, str]] = {}
        self.count = 0

    def spawn(self) -> str:
        self.count += 1
        name = f"qm-{self.count}"
        port = free_port()
        env = {
            "CALLISTO_QUEUE_MANAGER_MODE": "development",
            "CALLISTO_QUEUE_MANAGER_NATS_URL": self.nats.url,
            "CALLISTO_QUEUE_MANAGER_REDIS_URL": self.redis_url,
            "CALLISTO_QUEUE_MANAGER_HTTP_PORT": str(port),
            "CALLISTO_QUEUE_MANAGER_INSTANCE_ID": name,
            "CALLISTO_QUEUE_MANAGER_LEASE_TTL_S": str(LEASE_TTL),
            "CALLISTO_QUEUE_MANAGER_LOG_LEVEL": "WARNING",
        }
        process = spawn_service("callisto_queue_manager", env, self.folder / f"{name}.log")
        base = f"http://127.0.0.1:{port}"
        wait_http(f"{base}/readyz", 30, process=process)
        self.processes[name] = (process, base)
        return name

    def role(self, name: str) -> str:
        try:
            return str(httpx.get(f"{self.processes[name][1]}/readyz", timeout=1).json()["role"])
        except (httpx.HTTPError, KeyError):
            return "unreachable"

    def active(self) -> str | None:
        found = [n for n in self.processes if self.role(n) == "active"]
        return found[0] if len(found) == 1 else None

    def stop_all(self) -> None:
        for process, _ in self.processes.values():
            process.kill()


async def until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.05)
    raise SystemExit(f"{what}: not within {timeout} s")


async def arrivals(bus: Bus, token: str, accepted: list[str], stop: asyncio.Event) -> None:
    """5 calls per second; each retried until queue-manager accepted it (as call-manager would)."""
    n = 0
    pending: set[asyncio.Task[None]] = set()
    while not stop.is_set():
        n += 1
        task = asyncio.create_task(_enqueue(bus, token, f"c{n}", accepted))
        pending.add(task)
        task.add_done_callback(pending.discard)
        await asyncio.sleep(1 / RATE)
    await asyncio.gather(*pending)


async def _enqueue(bus: Bus, token: str, call_id: str, accepted: list[str]) -> None:
    for _ in range(100):
        try:
            await bus.call(Enqueue(call_id=call_id, queue_id="bench"), Enqueued, token=token, timeout=1.0)
        except RemoteError as exc:
            if exc.error_id == "call-already-queued":
                break
            await asyncio.sleep(0.1)
            continue
        except BusError:
            await asyncio.sleep(0.1)
            continue
        accepted.append(call_id)
        return
    accepted.append(call_id)


def routed_since(side: CallManagerSide, moment: float) -> bool:
    return side.next_offer_after(moment) is not None


async def main(rounds: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="callisto-failover-"))
    nats = NatsServer().start()
    redis_server = RedisServer().start()
    issuer = TestIssuer({"queue-manager": ["cm.#", "helpdesk.contacts.read"]})
    await issuer.start(nats.url)
    pair = Pair(nats, redis_server.url.rsplit("/", 1)[0] + "/3", folder)
    side_bus = Bus("call-manager", "bench", BusMetrics(CollectorRegistry()))
    side = CallManagerSide(side_bus)
    await side.start()
    await side_bus.start(nats.url)
    await side_bus.wait_connected(10)
    try:
        first = await asyncio.to_thread(pair.spawn)
        await until(lambda: pair.role(first) == "active", 10, "the first active")
        await asyncio.to_thread(pair.spawn)
        admin = issuer.bearer("#")
        base = pair.processes[first][1]
        async with httpx.AsyncClient(base_url=base, headers=admin, timeout=5) as http:
            queue = {"id": "bench", "name": "Bench", "wrap_up_s": 0, "ring_timeout_s": 10}
            assert (await http.put("/api/v1/queues/bench", json=queue)).status_code == 200
            for agent in AGENTS:
                assert (
                    await http.put(f"/api/v1/agents/{agent}", json={"id": agent, "skills": {}})
                ).status_code == 200
                for request in ("login", "ready"):
                    await http.post(f"/api/v1/agents/{agent}/state", json={"request": request})
        accepted: list[str] = []
        stop = asyncio.Event()
        load = asyncio.create_task(arrivals(side_bus, issuer.token("qm.calls.#"), accepted, stop))
        await asyncio.sleep(3)
        gaps: dict[str, list[float]] = {"SIGKILL": [], "SIGTERM": []}
        for kind in ("SIGKILL", "SIGTERM"):
            for _ in range(rounds):
                await until(lambda: pair.active() is not None, 15, "one active")
                victim = pair.active()
                assert victim is not None
                process, _ = pair.processes.pop(victim)
                killed = time.monotonic()
                if kind == "SIGKILL":
                    process.kill()
                else:
                    await asyncio.to_thread(process.stop, 15.0, signal.SIGTERM)
                await until(partial(routed_since, side, killed), 30, "routing again")
                resumed = side.next_offer_after(killed)
                assert resumed is not None
                gaps[kind].append(resumed - killed)
                await asyncio.to_thread(pair.spawn)  # the replacement, standby
                await asyncio.sleep(1.0)
        stop.set()
        await load
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and set(accepted) - side.ended:
            await asyncio.sleep(0.2)
        lost = len(set(accepted) - side.ended)
        active = pair.active()
        stuck = 0
        if active is not None:
            async with httpx.AsyncClient(headers=admin, timeout=5) as http:
                listed = (await http.get(f"{pair.processes[active][1]}/api/v1/agents")).json()
            stuck = sum(1 for a in listed if a["agent_id"] in AGENTS and a["state"] == "reserved")
    finally:
        pair.stop_all()
        await side_bus.close()
        await issuer.stop()
        redis_server.stop()
        nats.stop()
    for kind, samples in gaps.items():
        p50, p99 = percentile(samples, 50), percentile(samples, 99)
        print(
            f"{kind}: time to the next routing decision p50 {p50:.2f} s, p99 {p99:.2f} s, "
            f"max {max(samples):.2f} s ({len(samples)} rounds)"
        )
    print(
        f"calls accepted {len(set(accepted))}, connected and ended {len(side.ended)}, lost {lost}, "
        f"double offers {side.double_offers}, agents left reserved {stuck}"
    )
    cm = await measure_call_manager(rounds, folder / "cm")
    for kind, samples in cm["resume"].items():
        print(
            f"call-manager {kind}: new INVITEs answered again after p50 {percentile(samples, 50):.2f} s, "
            f"p99 {percentile(samples, 99):.2f} s, max {max(samples):.2f} s ({len(samples)} rounds)"
        )
    print(f"call-manager: established calls {cm['established']}, broken by a takeover {cm['broken']}")
    resumed = cm["resume"]["SIGKILL"] + cm["resume"]["SIGTERM"]
    print(json.dumps({
        "qm_sigkill_p99_s": round(percentile(gaps["SIGKILL"], 99), 2), "goal_qm_sigkill_p99_s": 3.0,
        "qm_sigterm_p99_s": round(percentile(gaps["SIGTERM"], 99), 2), "goal_qm_sigterm_p99_s": 1.0,
        "calls_lost": lost, "goal_calls_lost": 0,
        "double_offers": side.double_offers, "goal_double_offers": 0,
        "stuck_reserved": stuck, "goal_stuck_reserved": 0,
        "cm_calls_broken": cm["broken"], "goal_cm_calls_broken": 0,
        "cm_invite_resume_p99_s": round(percentile(resumed, 99), 2), "goal_cm_invite_resume_p99_s": 3.0,
    }))  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds of each kind of kill")
    asyncio.run(main(parser.parse_args().rounds))
