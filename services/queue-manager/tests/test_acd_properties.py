"""Properties of the ACD over random sequences of arrivals, hang-ups, agent requests, ring outcomes
and the passing of time: no call offered to two agents (ring-all aside), no agent with two offers, no
ready agent idle beside a call they may take, indexes that agree with the records, FIFO within a
priority and aging that bounds the wait of low priorities."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callisto_protocol.agents import AgentState
from callisto_protocol.queues import AgentRequest, ConnectResult
from callisto_queue_manager.acd import Acd, Offer
from callisto_queue_manager.errors import QueueManagerError
from callisto_queue_manager.model import AgentProfile, CallStatus, QueueConfig, Strategy

pytestmark = pytest.mark.unit
T0 = 1_800_000_000.0
AGENTS = [f"a{i}" for i in range(6)]
QUEUES = [
    QueueConfig(id="water", skills={"water": 1}, max_wait_s=300, wrap_up_s=3),
    QueueConfig(id="gas", skills={"gas": 2}, strategy=Strategy.BEST_FIT, overflow_after_s=40,
                overflow_target="queue:general", weight=1),
    QueueConfig(id="general", strategy=Strategy.ROUND_ROBIN, wrap_up_s=0),
    QueueConfig(id="all", strategy=Strategy.RING_ALL, personal_wait_s=10, leave_empty=True),
]  # fmt: skip

operation = st.one_of(
    st.tuples(st.just("enqueue"), st.integers(0, 30), st.sampled_from([q.id for q in QUEUES]),
              st.integers(0, 3), st.sampled_from([None, "a1", "a4"]), st.sampled_from([{}, {"water": 5}])),
    st.tuples(st.just("hangup"), st.integers(0, 30)),
    st.tuples(st.just("agent"), st.sampled_from(AGENTS), st.sampled_from(list(AgentRequest))),
    st.tuples(st.just("outcome"), st.integers(0, 100), st.sampled_from(list(ConnectResult))),
    st.tuples(st.just("end"), st.integers(0, 30)),
    st.tuples(st.just("time"), st.floats(0.1, 30)),
    st.tuples(st.just("skills"), st.sampled_from(AGENTS), st.integers(0, 6), st.integers(0, 6)),
    st.tuples(st.just("callback"), st.integers(0, 30), st.sampled_from([q.id for q in QUEUES]),
              st.booleans()),
    st.tuples(st.just("try_end"), st.integers(0, 100), st.booleans()),
)  # fmt: skip


def profiles() -> list[AgentProfile]:
    return [
        AgentProfile(
            id=a, skills={k: v for k, v in (("water", 1 + i % 5), ("gas", 1 + i % 3)) if (i + len(k)) % 2}
        )
        for i, a in enumerate(AGENTS)
    ]


def check(acd: Acd, now: float) -> None:
    offered_at: dict[str, str] = {}
    for agent in acd.agents.values():
        if agent.state is AgentState.RESERVED:
            call = acd.calls[agent.call_id or ""]
            assert agent.id in call.offered_to and call.status is CallStatus.OFFERED
            assert agent.offer_id is not None
            assert agent.id not in offered_at
            offered_at[agent.id] = call.call_id
        elif agent.state is AgentState.ON_CALL:
            call = acd.calls[agent.call_id or ""]
            assert call.status is CallStatus.CONNECTED and call.answered_by == agent.id
        else:
            assert agent.offer_id is None
        for queue_id, members in acd.eligible.items():
            assert (agent.id in acd.ready[queue_id]) == (
                agent.id in members and agent.state is AgentState.READY
            )
    for call in acd.calls.values():
        in_index = (call.order, call.seq, call.call_id) in acd.waiting[call.queue_id]
        assert in_index == (call.status is CallStatus.WAITING)
        if call.status is CallStatus.OFFERED:
            assert call.offered_to and all(offered_at.get(a) == call.call_id for a in call.offered_to)
            if acd.queues[call.queue_id].strategy is not Strategy.RING_ALL or call.callback:
                assert len(call.offered_to) == 1
        else:
            assert not call.offered_to
        if call.status is CallStatus.CONNECTED:
            holders = [
                a for a in acd.agents.values() if a.call_id == call.call_id and a.state is AgentState.ON_CALL
            ]
            assert len(holders) == 1
    for attempt_id, callback_id in acd.attempts.items():
        callback = acd.calls[callback_id].callback
        assert callback is not None and callback.attempt_id == attempt_id
    assert sum(len(entries) for entries in acd.waiting.values()) == sum(
        1 for c in acd.calls.values() if c.status is CallStatus.WAITING
    )
    for queue_id, ready in acd.ready.items():  # work-conserving: nobody idles beside a call they may take
        for agent_id in ready:
            for _, _, call_id in acd.waiting[queue_id]:
                assert not acd._may_take(acd.agents[agent_id], acd.calls[call_id], now), (agent_id, call_id)


def apply(acd: Acd, op: tuple[Any, ...], now: float, offers: list[Offer]) -> float:
    kind = op[0]
    try:
        if kind == "enqueue":
            _, n, queue_id, priority, personal, skills = op
            acd.enqueue(f"c{n}", queue_id, now, priority=priority, personal_agent_id=personal, skills=skills)
        elif kind == "hangup":
            acd.dequeue(f"c{op[1]}", "abandoned", now)
        elif kind == "agent":
            acd.request(op[1], op[2], "break", now)
        elif kind == "outcome" and offers:
            offer = offers[op[1] % len(offers)]
            acd.outcome(offer.call_id, offer.agent_id, offer.offer_id, op[2], now)
        elif kind == "end":
            acd.call_ended(f"c{op[1]}", now)
        elif kind == "time":
            now += op[1]
            acd.tick(now)
        elif kind == "callback":
            _, n, queue_id, replaces = op
            acd.request_callback(queue_id, f"+49301234{n}", now, replaces=f"c{n}" if replaces else None,
                                 retry_after_s=20)  # fmt: skip
        elif kind == "try_end" and offers:
            offer = offers[op[1] % len(offers)]
            acd.call_ended(offer.attempt_id or offer.call_id, now, unreached=op[2])
        elif kind == "skills":
            skills = {k: v for k, v in (("water", op[2]), ("gas", op[3])) if v}
            acd.set_agent(AgentProfile(id=op[1], skills=skills), now)
    except QueueManagerError:
        pass  # refused requests change nothing (checked by the invariants)
    offers.extend(e for e in acd.take_effects() if isinstance(e, Offer))
    return now


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sets(st.sampled_from(AGENTS)), st.lists(operation, min_size=1, max_size=120))
def test_invariants_hold_after_every_step(ready: set[str], ops: list[tuple[Any, ...]]) -> None:
    acd = Acd(QUEUES, profiles(), seed=1)
    now, offers = T0, []
    for agent_id in sorted(ready):  # some agents start ready
        acd.request(agent_id, AgentRequest.LOGIN, None, now)
        acd.request(agent_id, AgentRequest.READY, None, now)
    for op in ops:
        now = apply(acd, op, now, offers)
        check(acd, now)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 600), st.integers(0, 5)), min_size=2, max_size=40))
def test_service_order_is_fifo_per_priority_and_aging_bounds_the_wait(calls: list[tuple[float, int]]) -> None:
    step = 30.0
    acd = Acd([QueueConfig(id="q", priority_step_s=step, wrap_up_s=0)], [AgentProfile(id="a")], seed=1)
    arrivals = sorted(calls, key=lambda c: c[0])
    for n, (offset, priority) in enumerate(arrivals):
        acd.enqueue(f"c{n}", "q", T0 + offset, priority=priority)
    now = T0 + 700
    acd.request("a", AgentRequest.LOGIN, None, now)
    acd.request("a", AgentRequest.READY, None, now)
    served: list[int] = []
    for _ in arrivals:
        (offer,) = [e for e in acd.take_effects() if isinstance(e, Offer)]
        served.append(int(offer.call_id[1:]))
        acd.outcome(offer.call_id, "a", offer.offer_id, ConnectResult.ANSWERED, now)
        acd.call_ended(offer.call_id, now)
    for i, x in enumerate(served):
        for y in served[i + 1 :]:  # x was served before y
            (tx, px), (ty, py) = arrivals[x], arrivals[y]
            if px == py:
                assert tx <= ty  # FIFO within a priority
            # aging: nobody is passed by a caller who came more than (priority difference x step) later
            # (within the resolution of epoch seconds as floats, a few tenths of a microsecond)
            assert ty - tx >= (py - px) * step - 1e-6
