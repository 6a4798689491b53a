"""Two queue-manager processes on one Redis: only the lease holder decides (it alone is subscribed to
the commands, consumes and ticks; the standby answers its API with 503 naming the active); SIGKILL the
active and the standby takes over with the calls that were waiting. Reproduced before: both instances
answered Enqueue in the same queue group and both would have routed calls."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis.asyncio as redis
from prometheus_client import CollectorRegistry

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import ManagedProcess, free_port, wait_until
from callisto_devkit.pytest_plugin import spawn_service, wait_http
from callisto_devkit.servers import NatsServer, RedisServer
from callisto_protocol.queues import Enqueue, Enqueued
from callisto_runtime import Bus
from callisto_runtime.metrics import BusMetrics

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.slow]
LEASE_TTL = 1.5


def start(
    nats: NatsServer, redis_url: str, name: str, tmp_path: Path, **settings: str
) -> tuple[ManagedProcess, str]:
    """queue-manager as its own process, ready; ``settings`` add its CALLISTO_QUEUE_MANAGER_ ones."""
    port = free_port()
    env = {
        "CALLISTO_QUEUE_MANAGER_MODE": "development",
        "CALLISTO_QUEUE_MANAGER_NATS_URL": nats.url,
        "CALLISTO_QUEUE_MANAGER_REDIS_URL": redis_url,
        "CALLISTO_QUEUE_MANAGER_HTTP_PORT": str(port),
        "CALLISTO_QUEUE_MANAGER_INSTANCE_ID": name,
        "CALLISTO_QUEUE_MANAGER_LEASE_TTL_S": str(LEASE_TTL),
        **{f"CALLISTO_QUEUE_MANAGER_{key.upper()}": value for key, value in settings.items()},
    }
    process = spawn_service("callisto_queue_manager", env, tmp_path / f"{name}.log")
    base = f"http://127.0.0.1:{port}"
    wait_http(f"{base}/readyz", 30, process=process)
    return process, base


def ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/readyz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def role(base: str) -> str:
    try:
        return str(httpx.get(f"{base}/readyz", timeout=1).json()["role"])
    except httpx.HTTPError:
        return "unreachable"


async def enqueue(nats_url: str, issuer: TestIssuer, *call_ids: str) -> list[Enqueued]:
    bus = Bus("call-manager", "cm-test", BusMetrics(CollectorRegistry()))
    await bus.start(nats_url)
    await bus.wait_connected(10)
    try:
        token = issuer.token("qm.calls.#")
        return [
            await bus.call(Enqueue(call_id=c, queue_id="billing"), Enqueued, token=token, timeout=5)
            for c in call_ids
        ]
    finally:
        await bus.close()


def waiting(base: str, headers: dict[str, str]) -> list[str]:
    reply = httpx.get(f"{base}/api/v1/queues/billing/calls", headers=headers, timeout=2)
    return [c["call_id"] for c in reply.json()] if reply.status_code == 200 else []


async def _flush(url: str) -> None:
    client = redis.Redis.from_url(url)
    await client.flushdb()
    await client.aclose()


@dataclass
class Pair:
    first: ManagedProcess
    first_url: str
    second: ManagedProcess
    second_url: str
    redis_url: str


@contextlib.contextmanager
def two_instances(
    nats: NatsServer, redis_server: RedisServer, issuer: TestIssuer, tmp_path: Path, db: int
) -> Iterator[Pair]:
    """qm-one active, qm-two standby, on Redis database ``db`` (emptied first); both killed after."""
    issuer.service_permissions["queue-manager"] = ["cm.#", "helpdesk.contacts.read"]
    redis_url = redis_server.url.rsplit("/", 1)[0] + f"/{db}"
    asyncio.run(_flush(redis_url))
    first, first_url = start(nats, redis_url, "qm-one", tmp_path)
    try:
        wait_until(lambda: role(first_url) == "active", 10, "qm-one active")
        second, second_url = start(nats, redis_url, "qm-two", tmp_path)
        try:
            yield Pair(first, first_url, second, second_url, redis_url)
        finally:
            second.stop()
    finally:
        first.kill()


def test_only_the_active_decides_and_the_standby_takes_over_with_the_waiting_calls(
    private_nats: NatsServer, redis_server: RedisServer, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    supervisor = token_issuer.bearer("qm.#")
    with two_instances(private_nats, redis_server, token_issuer, tmp_path, 9) as pair:
        assert role(pair.second_url) == "standby"
        refused = httpx.get(f"{pair.second_url}/api/v1/queues", headers=supervisor, timeout=2)
        assert refused.status_code == 503
        assert refused.json()["error_id"] == "standby"
        assert refused.json()["details"]["active_instance"] == "qm-one"

        placed = asyncio.run(enqueue(private_nats.url, token_issuer, "w1", "w2", "w3"))
        assert [p.position for p in placed] == [1, 2, 3]  # one decider: one line, no double answers
        assert waiting(pair.first_url, supervisor) == ["w1", "w2", "w3"]

        pair.first.kill()
        killed = time.monotonic()
        wait_until(lambda: waiting(pair.second_url, supervisor) == ["w1", "w2", "w3"], LEASE_TTL * 6,
                   "qm-two takes over with the waiting calls", interval=0.05)  # fmt: skip
        print(f"takeover with the calls in {time.monotonic() - killed:.2f} s")
        (more,) = asyncio.run(enqueue(private_nats.url, token_issuer, "w4"))
        assert more.position == 4  # routing goes on where the other left off


def test_an_active_frozen_past_its_lease_wakes_up_as_standby_and_writes_nothing(
    private_nats: NatsServer, redis_server: RedisServer, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    supervisor = token_issuer.bearer("qm.#")
    with two_instances(private_nats, redis_server, token_issuer, tmp_path, 10) as pair:
        asyncio.run(enqueue(private_nats.url, token_issuer, "f1"))
        pair.first.send_signal(signal.SIGSTOP)  # a long GC pause, a partition: the lease lapses
        wait_until(lambda: waiting(pair.second_url, supervisor) == ["f1"], LEASE_TTL * 6, "qm-two takes over")
        asyncio.run(enqueue(private_nats.url, token_issuer, "f2"))
        with httpx.Client(timeout=10) as http, ThreadPoolExecutor(1) as pool:
            # a change sent to the frozen one (it waits in the socket until the process wakes up)
            late = pool.submit(
                http.put, f"{pair.first_url}/api/v1/agents/agent-9",
                json={"id": "agent-9", "name": "Late", "skills": {}}, headers=supervisor,
            )  # fmt: skip
            pair.first.send_signal(signal.SIGCONT)
            answered = late.result(10)
        assert (answered.status_code, answered.json()["error_id"]) == (503, "standby")
        wait_until(lambda: role(pair.first_url) == "standby", 10, "qm-one steps down")
        assert waiting(pair.second_url, supervisor) == ["f1", "f2"]
        assert asyncio.run(_calls_in_redis(pair.redis_url)) == {"f1", "f2"}  # nothing overwritten
        assert httpx.get(f"{pair.second_url}/api/v1/agents/agent-9", headers=supervisor).status_code == 404


async def _calls_in_redis(url: str) -> set[str]:
    client = redis.Redis.from_url(url)
    try:
        return {k.decode() if isinstance(k, bytes) else k for k in await client.hkeys("qm:calls")}
    finally:
        await client.aclose()


def test_a_switchover_by_hand_and_a_graceful_stop_hand_the_lease_over_at_once(
    private_nats: NatsServer, redis_server: RedisServer, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    supervisor = token_issuer.bearer("qm.#")
    admin = token_issuer.bearer("#")
    with two_instances(private_nats, redis_server, token_issuer, tmp_path, 11) as pair:
        asyncio.run(enqueue(private_nats.url, token_issuer, "s1"))
        assert httpx.post(f"{pair.second_url}/api/v1/lease/hand-over", headers=supervisor).status_code == 403
        handed = httpx.post(f"{pair.first_url}/api/v1/lease/hand-over", headers=admin, timeout=5)
        assert handed.status_code == 200 and handed.json()["was_active"] is True
        wait_until(
            lambda: waiting(pair.second_url, supervisor) == ["s1"], 5, "qm-two active after the switchover"
        )
        assert role(pair.first_url) == "standby"
        # the graceful stop of the active (SIGTERM) releases the lease at once: qm-one takes it as
        # soon as its own hold-off after the switchover is over, no lease TTL to wait out
        pair.second.stop()
        wait_until(lambda: waiting(pair.first_url, supervisor) == ["s1"], LEASE_TTL * 8, "qm-one back")


def test_a_nats_restart_under_both_instances_leaves_one_active_that_routes(
    private_nats: NatsServer, redis_server: RedisServer, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    supervisor = token_issuer.bearer("qm.#")
    with two_instances(private_nats, redis_server, token_issuer, tmp_path, 12) as pair:
        asyncio.run(enqueue(private_nats.url, token_issuer, "n1"))
        private_nats.restart()
        urls = (pair.first_url, pair.second_url)
        wait_until(lambda: all(ready(u) for u in urls), 20, "both back on NATS")
        wait_until(lambda: sorted(role(u) for u in urls) == ["active", "standby"], 20, "one active again")
        active = next(u for u in urls if role(u) == "active")
        wait_until(lambda: waiting(active, supervisor) == ["n1"], 10, "the waiting call kept")
        (more,) = asyncio.run(enqueue(private_nats.url, token_issuer, "n2"))
        assert more.position == 2
        assert sorted(role(u) for u in urls) == ["active", "standby"]  # still one decider
