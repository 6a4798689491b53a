"""ACD benchmark: the cost of routing decisions in queue-manager's core, at contact-center scale.

    .venv/bin/python bench/acd.py [--quick]

5,000 agents (3-6 of 20 skills, levels 1-10), 200 queues (1-2 required skills, mixed strategies).
1. Steady load on simulated time: 30 new calls per second with a burst of 200 per second for 5 s every
   30 s, answered 2-8 s after the offer, talk ~ exponential (mean 180 s), wrap-up 10 s, the ACD's
   timers run every 0.2 s. Every operation (enqueue, ring outcome, call end, timer tick) is timed on
   the real clock: a routing decision is one operation and what it sets off.
2. 10,000 callers waiting (agents not ready), then agents become ready one by one: the longest single
   operation is the longest event-loop stall the ACD can cause.
3. Memory of the ACD's state with 10,000 callers waiting and 5,000 agents (tracemalloc).
Last line: one JSON object with the figures beside their goals.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import json
import random
import time
import tracemalloc

from callisto_protocol.queues import AgentRequest, ConnectResult
from callisto_queue_manager.acd import Acd, Offer
from callisto_queue_manager.model import AgentProfile, QueueConfig, Strategy

SKILLS = [f"s{i}" for i in range(20)]
T0 = 1_800_000_000.0


def build(rng: random.Random, agents: int = 5000, queues: int = 200) -> Acd:
    strategies = [Strategy.LONGEST_IDLE, Strategy.FEWEST_CALLS, Strategy.BEST_FIT, Strategy.ROUND_ROBIN]
    queue_configs = [
        QueueConfig(
            id=f"q{i}",
            skills={s: rng.randint(1, 5) for s in rng.sample(SKILLS, rng.randint(1, 2))},
            strategy=strategies[i % len(strategies)],
            weight=rng.randint(0, 3),
            wrap_up_s=10,
            ring_timeout_s=15,
        )
        for i in range(queues)
    ]
    profiles = [
        AgentProfile(
            id=f"a{i}", skills={s: rng.randint(1, 10) for s in rng.sample(SKILLS, rng.randint(3, 6))}
        )
        for i in range(agents)
    ]
    acd = Acd(queue_configs, profiles, seed=1)
    gc.collect()
    gc.freeze()  # as the service does once its configuration is loaded (Engine.load)
    return acd


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def steady(rng: random.Random, seconds: float) -> list[float]:
    acd = build(rng)
    for agent_id in acd.agents:
        acd.request(agent_id, AgentRequest.LOGIN, None, T0)
        acd.request(agent_id, AgentRequest.READY, None, T0)
    acd.take_effects()
    queue_ids = sorted(acd.queues)
    pending: list[tuple[float, int, str, tuple[str, ...]]] = []  # simulated future operations
    n = 0
    samples: list[float] = []

    def timed(op: object, *args: object) -> None:
        started = time.perf_counter()
        op(*args)  # type: ignore[operator]
        samples.append((time.perf_counter() - started) * 1000)
        for effect in acd.take_effects():
            if isinstance(effect, Offer):
                answer_at = now + rng.uniform(2, 8)
                heapq.heappush(
                    pending,
                    (answer_at, next_n(), "answer", (effect.call_id, effect.agent_id, effect.offer_id)),
                )

    def next_n() -> int:
        nonlocal n
        n += 1
        return n

    now, arrivals, calls = T0, 0.0, 0
    while now < T0 + seconds:
        step = 0.2
        rate = 200.0 if (now - T0) % 30 < 5 else 30.0
        arrivals += rate * step
        while arrivals >= 1:
            arrivals -= 1
            calls += 1
            timed(acd.enqueue, f"c{calls}", rng.choice(queue_ids), now + rng.uniform(0, step))
        now += step
        while pending and pending[0][0] <= now:
            at, _, kind, args = heapq.heappop(pending)
            if kind == "answer":
                call_id, agent_id, offer_id = args
                timed(acd.outcome, call_id, agent_id, offer_id, ConnectResult.ANSWERED, at)
                heapq.heappush(pending, (at + rng.expovariate(1 / 180), next_n(), "end", (call_id,)))
            else:
                timed(acd.call_ended, args[0], at)
        timed(acd.tick, now)
    return samples


def backlog(rng: random.Random, waiting: int) -> tuple[float, float, float]:
    """The longest operation with ``waiting`` callers, and the memory of that state (MB, measured in a
    second identical build: tracemalloc slows every allocation down)."""
    acd, longest = fill(rng, waiting)
    gc.collect()
    tracemalloc.start()
    kept = fill(random.Random(7), waiting)
    memory_mb = tracemalloc.get_traced_memory()[0] / 1e6
    tracemalloc.stop()
    del kept
    ready_ops: list[float] = []
    now = T0 + waiting * 0.01
    for agent_id in list(acd.agents)[:2000]:
        started = time.perf_counter()
        acd.request(agent_id, AgentRequest.READY, None, now)
        elapsed = time.perf_counter() - started
        ready_ops.append(elapsed * 1000)
        longest = max(longest, elapsed)
        acd.take_effects()
    started = time.perf_counter()
    acd.tick(now + 1)
    longest = max(longest, time.perf_counter() - started)
    return longest * 1000, memory_mb, percentile(ready_ops, 0.99)


def fill(rng: random.Random, waiting: int) -> tuple[Acd, float]:
    acd = build(rng)
    queue_ids = sorted(acd.queues)
    for agent_id in acd.agents:
        acd.request(agent_id, AgentRequest.LOGIN, None, T0)
    longest = 0.0
    for i in range(waiting):
        started = time.perf_counter()
        acd.enqueue(f"w{i}", rng.choice(queue_ids), T0 + i * 0.01, priority=rng.randint(0, 3))
        longest = max(longest, time.perf_counter() - started)
    acd.take_effects()
    return acd, longest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    rng = random.Random(42)
    samples = steady(rng, 60 if args.quick else 300)
    p50, p99, p999 = (percentile(samples, p) for p in (0.5, 0.99, 0.999))
    print(f"1. {len(samples):,} operations at 30 calls/s with bursts to 200/s (5,000 agents, 200 queues):")
    print(f"   p50 {p50:.3f} ms, p99 {p99:.3f} ms, p99.9 {p999:.3f} ms, max {max(samples):.2f} ms")
    stall, memory_mb, ready_p99 = backlog(rng, 10_000)
    print(
        f"2. 10,000 callers waiting: longest operation {stall:.2f} ms;"
        f" agent ready (takes a call) p99 {ready_p99:.3f} ms"
    )
    print(f"3. ACD state with 10,000 waiting and 5,000 agents: {memory_mb:.1f} MB (tracemalloc)")
    figures = {
        "routing_p50_ms": round(p50, 3),
        "routing_p99_ms": round(p99, 3),
        "goal_routing_p99_ms": 2.0,
        "routing_p999_ms": round(p999, 3),
        "goal_routing_p999_ms": 10.0,
        "max_loop_stall_ms": round(stall, 2),
        "goal_max_loop_stall_ms": 20.0,
        "memory_mb": round(memory_mb, 1),
        "goal_memory_mb": 300.0,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
