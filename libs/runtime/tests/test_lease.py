"""The leader lease against a real NATS server: never two leaders, takeover after a kill."""

from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import nats
import nats.js.errors
import pytest
from bus_testing import eventually

from callisto_devkit.servers import NatsServer
from callisto_protocol import new_id
from callisto_runtime.errors import LeaseError
from callisto_runtime.kv import ensure_bucket, open_generation
from callisto_runtime.lease import LeaderLease

pytestmark = pytest.mark.integration
TTL = 1.0


async def _bucket(nc: nats.NATS, ttl: float = TTL):  # type: ignore[no-untyped-def]
    return await ensure_bucket(nc, f"lease_test_{new_id()[:8]}", ttl_s=ttl, memory=True)


async def test_one_contender_leads_and_releases(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    try:
        kv = await _bucket(nc)
        a = LeaderLease(kv, "svc", "a", ttl_s=TTL)
        b = LeaderLease(kv, "svc", "b", ttl_s=TTL)
        a.start()
        await eventually(lambda: a.is_leader, what="a leads")
        b.start()
        await asyncio.sleep(TTL * 1.5)
        assert a.is_leader and not b.is_leader
        assert a.token is not None and b.token is None
        await a.stop(release=True)  # a clean stop hands over at once, without waiting for the TTL
        started = time.monotonic()
        await eventually(lambda: b.is_leader, what="b takes over")
        assert time.monotonic() - started < TTL
        await b.stop()
    finally:
        await nc.close()


async def test_only_an_eligible_contender_leads_and_one_made_ineligible_releases_at_once(
    nats_server: NatsServer,
) -> None:
    """Eligibility is a cluster manager's say (a promoted node): the lease follows it, not the race."""
    nc = await nats.connect(nats_server.url)
    try:
        kv = await _bucket(nc)
        say = {"a": False, "b": True}
        a = LeaderLease(kv, "svc", "a", ttl_s=TTL, eligible=lambda: say["a"])
        b = LeaderLease(kv, "svc", "b", ttl_s=TTL, eligible=lambda: say["b"])
        a.start()
        b.start()
        await eventually(lambda: b.is_leader, what="the eligible b leads")
        assert not a.is_leader
        say.update(a=True, b=False)  # a demotion and a promotion
        started = time.monotonic()
        await eventually(lambda: a.is_leader, what="a leads once b let go")
        assert time.monotonic() - started < TTL  # released, not lapsed
        assert not b.is_leader
        say["a"] = False
        await eventually(lambda: not a.is_leader, what="a stands down")
        with pytest.raises(nats.js.errors.KeyNotFoundError):
            await kv.get("svc")  # nobody holds it while nobody may
        await a.stop()
        await b.stop()
    finally:
        await nc.close()


def test_renewal_must_fit_inside_the_ttl() -> None:
    with pytest.raises(LeaseError):
        LeaderLease(None, "svc", "a", ttl_s=1.0, renew_every_s=0.95)  # type: ignore[arg-type]


@pytest.mark.slow
async def test_never_two_leaders_under_random_pauses_and_restarts(nats_server: NatsServer) -> None:
    """Contenders are frozen (stop renewing, as in a long GC pause or a partition), resumed, stopped and
    replaced at random; a sampler checks every 5 ms that at most one believes it leads."""
    rng = random.Random(int(os.environ.get("CALLISTO_TEST_SEED", "4475")))
    nc = await nats.connect(nats_server.url)
    kv = await _bucket(nc)
    contenders = [LeaderLease(kv, "svc", f"c{i}", ttl_s=TTL) for i in range(3)]
    for c in contenders:
        c.start()
    violations: list[tuple[float, list[str]]] = []
    led_samples = 0
    samples = 0
    stop = asyncio.Event()

    async def sampler() -> None:
        nonlocal led_samples, samples
        while not stop.is_set():
            leaders = [c.holder for c in contenders if c.is_leader]
            samples += 1
            led_samples += bool(leaders)
            if len(leaders) > 1:
                violations.append((time.monotonic(), leaders))
            await asyncio.sleep(0.005)

    sampling = asyncio.create_task(sampler())
    rounds = 60
    next_id = len(contenders)
    try:
        for _ in range(rounds):
            action = rng.choice(["pause", "resume", "replace", "wait"])
            victim = rng.choice(contenders)
            if action == "pause":
                victim.paused = True
            elif action == "resume":
                victim.paused = False
            elif action == "replace":
                await victim.stop(release=rng.random() < 0.5)
                fresh = LeaderLease(kv, "svc", f"c{next_id}", ttl_s=TTL)
                next_id += 1
                contenders[contenders.index(victim)] = fresh
                fresh.start()
            await asyncio.sleep(rng.uniform(0.0, TTL * 0.6))
        for c in contenders:
            c.paused = False
        await eventually(lambda: any(c.is_leader for c in contenders), timeout=TTL * 3, what="a leader")
    finally:
        stop.set()
        await sampling
        for c in contenders:
            await c.stop()
        await nc.close()
    assert violations == []
    assert samples > 500
    assert led_samples / samples > 0.3  # the lease is usable, not only safe


@pytest.mark.slow
@pytest.mark.fault
async def test_standby_takes_over_after_the_holder_is_killed(nats_server: NatsServer, tmp_path: Path) -> None:
    ttl = 1.5
    nc = await nats.connect(nats_server.url)
    bucket = f"lease_kill_{new_id()[:8]}"
    kv = await ensure_bucket(nc, bucket, ttl_s=ttl, memory=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            str(Path(__file__).with_name("lease_holder.py")),
            nats_server.url,
            bucket,
            str(ttl),
            "p1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(holder.stdout.readline), 15)
        assert line.strip() == "LEADER"
        standby = LeaderLease(kv, "singleton", "standby", ttl_s=ttl)
        standby.start()
        await asyncio.sleep(ttl)
        assert not standby.is_leader
        holder.kill()
        killed = time.monotonic()
        await eventually(lambda: standby.is_leader, timeout=ttl * 4, what="standby takes over")
        takeover = time.monotonic() - killed
        await standby.stop()
    finally:
        holder.kill()
        holder.wait()
        await nc.close()
    assert takeover <= ttl + 1.0, f"takeover took {takeover:.2f} s"


async def test_a_lease_bucket_deleted_at_run_time_is_made_again_and_its_leader_outranks_the_old(
    nats_server: NatsServer,
) -> None:
    """Someone deletes the bucket: the contenders create it again, wait one TTL (the old leader can
    no longer renew and steps down meanwhile), and one leads again; never two at once, and the new
    leader's fencing token is higher than any of the old bucket although revisions start again."""
    nc = await nats.connect(nats_server.url)
    bucket = f"lease_test_{new_id()[:8]}"

    async def reopen():  # type: ignore[no-untyped-def]
        return await open_generation(nc, bucket, ttl_s=TTL)

    leases: list[LeaderLease] = []
    try:
        opened = await reopen()
        leases = [LeaderLease(opened.kv, "svc", name, ttl_s=TTL, reopen=reopen) for name in "ab"]
        for lease in leases:
            lease.adopt(opened)
            lease.start()
        await eventually(lambda: any(lease.is_leader for lease in leases), what="one leads")
        await asyncio.sleep(TTL)  # a few renewals: the revision grows
        old_token = max(lease.token or "" for lease in leases)
        both = 0

        async def sample() -> None:
            nonlocal both
            while True:
                both += sum(lease.is_leader for lease in leases) > 1
                await asyncio.sleep(0.005)

        sampler = asyncio.create_task(sample())
        await nc.jetstream().delete_key_value(bucket)
        await eventually(
            lambda: not any(lease.is_leader for lease in leases), TTL * 2, "the old leader steps down"
        )
        await eventually(
            lambda: any(lease.is_leader for lease in leases), TTL * 10, "a leader in the new bucket"
        )
        sampler.cancel()
        new_token = next(lease.token for lease in leases if lease.token is not None)
        assert new_token > old_token, (old_token, new_token)
        assert both == 0
    finally:  # the leases stop before their connection closes, whatever happened
        for lease in leases:
            await lease.stop(release=False)
        await nc.close()
