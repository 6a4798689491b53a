"""Bus benchmark: typed layer vs raw nats-py, request/reply latency, lease takeover.

    make bench            (or: .venv/bin/python bench/bus.py [--quick])

Starts its own nats-server on free loopback ports. Prints, from one run on this machine:
  1. publish/subscribe throughput of the typed layer (envelope, pydantic, metrics) as a ratio of raw
     nats-py sending the same bodies, publisher and subscriber in separate processes;
  2. request/reply latency p50/p99 at fixed (open-loop) rates of 1,000 and 5,000 requests/s, the
     responder in another process, beside raw nats-py sending the same bodies at the same rate (the
     ratio of the p99s: ``request_p99_ratio`` at 5,000/s);
  3. time from SIGKILL of a lease holder (a separate process) to the standby leading, p50/p99 over
     many rounds, with the services' default lease settings.
Its last line is one JSON object with the figures beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from prometheus_client import CollectorRegistry

from callisto_devkit.servers import NatsServer
from callisto_protocol import Envelope, new_id
from callisto_protocol.agents import AgentState
from callisto_protocol.envelope import envelope_headers
from callisto_protocol.lists import AgentEntry, AgentList, AgentListDelta, GetAgentList
from callisto_runtime import Bus, ServiceSettings
from callisto_runtime.kv import ensure_bucket
from callisto_runtime.lease import LeaderLease
from callisto_runtime.metrics import BusMetrics

GOALS = {"throughput_ratio": 0.7, "request_p99_ms": 1.0, "request_p99_ratio": 2.0, "takeover_p99_s": 2.0}
SAMPLE = AgentListDelta(
    seq=1,
    upserted=[
        AgentEntry(
            agent_id="agent-17",
            name="Alma Ruiz",
            state=AgentState.READY,
            since=datetime.now(UTC),
            queues=["water-leaks", "billing"],
        )
    ],
)


def new_bus(url: str, name: str) -> Bus:
    return Bus(name, name, BusMetrics(CollectorRegistry()))


# 1. throughput -------------------------------------------------------------------------------------
def _subscriber(url: str, mode: str, count: int, ready: Any, done: Any) -> None:
    typed = mode == "typed"

    async def main() -> None:
        finished = asyncio.Event()
        received = 0
        if typed:
            bus = new_bus(url, "bench-sub")

            async def handler(event: AgentListDelta, env: Envelope) -> None:
                nonlocal received
                received += 1
                if received == count:
                    finished.set()

            await bus.subscribe(AgentListDelta, handler)
            await bus.start(url)
            await bus.wait_connected(10)
            await bus.nc.flush()
        else:
            nc = await nats.connect(url)

            async def raw_handler(msg: Any) -> None:
                nonlocal received
                received += 1
                if mode == "raw-headers" and not msg.headers:
                    raise RuntimeError("headers expected")
                if received == count:
                    finished.set()

            await nc.subscribe(AgentListDelta.subject, cb=raw_handler, pending_msgs_limit=count + 1)
            await nc.flush()
        ready.set()
        await finished.wait()
        done.value = time.perf_counter()

    asyncio.run(main())


async def _publish(url: str, mode: str, count: int) -> float:
    body = SAMPLE.encode()
    if mode == "typed":
        bus = new_bus(url, "core-bus")  # the declared publisher of the list deltas: receivers check it
        await bus.start(url)
        await bus.wait_connected(10)
        started = time.perf_counter()
        for i in range(count):
            await bus.publish(SAMPLE)
            if i % 1000 == 0:
                await asyncio.sleep(0)
        await bus.nc.flush()
        await bus.close()
    else:
        nc = await nats.connect(url)
        headers = envelope_headers(SAMPLE.message_type, "bench", "pub") if mode == "raw-headers" else None
        started = time.perf_counter()
        for i in range(count):
            await nc.publish(AgentListDelta.subject, body, headers=headers)
            if i % 1000 == 0:
                await asyncio.sleep(0)
        await nc.flush()
        await nc.close()
    return started


def throughput(url: str, mode: str, count: int) -> float:
    ctx = mp.get_context("spawn")
    ready, done = ctx.Event(), ctx.Value("d", 0.0)
    sub = ctx.Process(target=_subscriber, args=(url, mode, count, ready, done))
    sub.start()
    ready.wait(30)
    started = asyncio.run(_publish(url, mode, count))
    sub.join(120)
    return count / (done.value - started)


# 2. request/reply ----------------------------------------------------------------------------------
def _responder(url: str, mode: str, ready: Any, stop: Any) -> None:
    """The typed layer serving GetAgentList, or raw nats-py answering the same subject with the same
    body (``mode`` "raw"): the floor a layer over nats-py starts from."""

    async def main() -> None:
        reply = AgentList(seq=1, agents=list(SAMPLE.upserted))
        if mode == "raw":
            nc = await nats.connect(url)
            body = reply.encode()

            async def raw(msg: Any) -> None:
                await msg.respond(body)

            await nc.subscribe(GetAgentList.subject, queue="bench", cb=raw)
            await nc.flush()
            ready.set()
            while not stop.is_set():
                await asyncio.sleep(0.1)
            await nc.close()
            return
        bus = new_bus(url, "bench-responder")

        async def handler(command: GetAgentList, env: Envelope) -> AgentList:
            return reply

        await bus.serve(GetAgentList, handler, permission=None)
        await bus.start(url)
        await bus.wait_connected(10)
        await bus.nc.flush()
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await bus.close()

    asyncio.run(main())


async def _requests(url: str, mode: str, rate: float, seconds: float) -> tuple[list[float], int]:
    bus = new_bus(url, "bench-requester")
    await bus.start(url)
    await bus.wait_connected(10)
    body = GetAgentList().encode()
    latencies: list[float] = []
    failures = 0

    async def one() -> None:
        nonlocal failures
        started = time.perf_counter()
        try:
            if mode == "raw":
                await bus.nc.request(GetAgentList.subject, body, timeout=2.0)
            else:
                await bus.request(GetAgentList(), timeout=2.0)
            latencies.append((time.perf_counter() - started) * 1000)
        except Exception:
            failures += 1

    for _ in range(200):  # warm up
        await one()
    latencies.clear()
    tasks: list[asyncio.Task[None]] = []
    interval = 1.0 / rate
    start = time.perf_counter()
    total = int(rate * seconds)
    for i in range(total):
        delay = start + i * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    achieved = total / (time.perf_counter() - start)
    await bus.close()
    print(f"  {mode} requests sent: {total} at {achieved:.0f}/s, failed {failures}")
    return latencies, failures


def request_reply(url: str, rate: float, seconds: float, mode: str = "typed") -> tuple[float, float, int]:
    """p50 and p99 in ms and the failures of ``mode`` (typed or raw) requests at an open-loop ``rate``."""
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    responder = ctx.Process(target=_responder, args=(url, mode, ready, stop))
    responder.start()
    ready.wait(30)
    latencies, failures = asyncio.run(_requests(url, mode, rate, seconds))
    stop.set()
    responder.join(30)
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1], failures


# 3. lease takeover ---------------------------------------------------------------------------------
HOLDER = """
import asyncio, sys, nats
from callisto_runtime.kv import ensure_bucket
from callisto_runtime.lease import LeaderLease
async def main():
    nc = await nats.connect(sys.argv[1])
    kv = await ensure_bucket(nc, sys.argv[2], ttl_s=float(sys.argv[3]))
    lease = LeaderLease(kv, "bench", "holder", ttl_s=float(sys.argv[3]))
    async def changed(leader):
        print("LEADER" if leader else "STANDBY", flush=True)
    lease.on_change(changed)
    lease.start()
    await asyncio.Event().wait()
asyncio.run(main())
"""


async def takeovers(url: str, rounds: int) -> list[float]:
    ttl = ServiceSettings().lease_ttl_s
    nc = await nats.connect(url)
    bucket = f"bench_leases_{new_id()[:6]}"
    kv = await ensure_bucket(nc, bucket, ttl_s=ttl)
    times: list[float] = []
    for _ in range(rounds):
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLDER, url, bucket, str(ttl)], stdout=subprocess.PIPE, text=True
        )
        assert holder.stdout is not None
        line = await asyncio.to_thread(holder.stdout.readline)
        assert line.strip() == "LEADER", line
        standby = LeaderLease(kv, "bench", "standby", ttl_s=ttl)
        standby.start()
        await asyncio.sleep(0.3 + (len(times) % 7) * 0.05)  # kill at varied points of the renew cycle
        holder.kill()
        killed = time.perf_counter()
        while not standby.is_leader:
            await asyncio.sleep(0.005)
        times.append(time.perf_counter() - killed)
        holder.wait()
        await standby.stop(release=True)
    await nc.close()
    return sorted(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts, for a smoke run")
    args = parser.parse_args()
    count = 20_000 if args.quick else 100_000
    seconds = 2.0 if args.quick else 6.0
    rounds = 5 if args.quick else 20
    server = NatsServer(store_dir=Path(f"/tmp/callisto-bench-nats-{new_id()[:6]}")).start()
    try:
        print(f"nats-server on {server.url}; {count} messages per throughput run")
        raw = throughput(server.url, "raw", count)
        raw_headers = throughput(server.url, "raw-headers", count)
        typed = throughput(server.url, "typed", count)
        ratio = typed / raw
        print(
            f"   raw nats-py carrying the same envelope headers: {raw_headers:,.0f} msg/s "
            f"(ratio {raw_headers / raw:.2f}: the floor any enveloped layer over nats-py starts from)"
        )
        print(
            f"1. pub/sub throughput: raw nats-py {raw:,.0f} msg/s, typed {typed:,.0f} msg/s, "
            f"ratio {ratio:.2f} (goal >= {GOALS['throughput_ratio']})"
        )
        p99_ratio: dict[int, float] = {}
        for rate in (1000, 5000):
            raw50, raw99, raw_failures = request_reply(server.url, rate, seconds, "raw")
            p50, p99, failures = request_reply(server.url, rate, seconds, "typed")
            p99_ratio[rate] = p99 / raw99
            print(
                f"2. request/reply at {rate:,}/s: typed p50 {p50:.3f} ms, p99 {p99:.3f} ms; raw nats-py "
                f"p50 {raw50:.3f} ms, p99 {raw99:.3f} ms ({raw_failures} failed); p99 ratio "
                f"{p99_ratio[rate]:.2f} (goal <= {GOALS['request_p99_ratio']}; absolute goal p99 < "
                f"{GOALS['request_p99_ms']} ms)"
            )  # fmt: skip
        times = asyncio.run(takeovers(server.url, rounds))
        t50, t99 = statistics.median(times), times[max(0, int(len(times) * 0.99) - 1)]
        print(
            f"3. lease takeover after SIGKILL over {rounds} rounds: p50 {t50:.2f} s, p99 {t99:.2f} s, "
            f"max {times[-1]:.2f} s (goal p99 < {GOALS['takeover_p99_s']} s)"
        )
    finally:
        server.stop()
    result = {
        "throughput_ratio": round(ratio, 3),
        "goal_throughput_ratio": GOALS["throughput_ratio"],
        "raw_msgs_per_s": round(raw),
        "typed_msgs_per_s": round(typed),
        "request_p99_ratio": round(p99_ratio[5000], 2),
        "goal_request_p99_ratio": GOALS["request_p99_ratio"],
        "request_p99_ratio_1000": round(p99_ratio[1000], 2),
        "raw_request_p99_ms": round(raw99, 3),
        "request_p50_ms": round(p50, 3),
        "request_p99_ms": round(p99, 3),
        "goal_request_p99_ms": GOALS["request_p99_ms"],
        "request_failures": failures,
        "takeover_p50_s": round(t50, 3),
        "takeover_p99_s": round(t99, 3),
        "goal_takeover_p99_s": GOALS["takeover_p99_s"],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
