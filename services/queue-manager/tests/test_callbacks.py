"""Callbacks in the ACD, without servers: their place in line, windows, tries, and reconciliation
with call-manager's live calls."""

from __future__ import annotations

import pytest

from callisto_protocol.agents import AgentState
from callisto_protocol.queues import AgentRequest, ConnectResult, QueueCallEvent, QueueCallKind
from callisto_queue_manager.acd import Acd, CancelOffer, Offer
from callisto_queue_manager.errors import InvalidCallback, InvalidTransition
from callisto_queue_manager.model import AgentProfile, CallStatus, QueueConfig

pytestmark = pytest.mark.unit
T0 = 1_800_000_000.0


def acd(agents: int = 2, **queue: object) -> Acd:
    config = QueueConfig.model_validate({"id": "q1", "ring_timeout_s": 10, "wrap_up_s": 0, **queue})
    return Acd([config], [AgentProfile(id=f"a{i}") for i in range(1, agents + 1)], seed=3)


def ready(a: Acd, *agent_ids: str, now: float = T0) -> None:
    for agent_id in agent_ids:
        a.request(agent_id, AgentRequest.LOGIN, None, now)
        a.request(agent_id, AgentRequest.READY, None, now)


def effects(a: Acd) -> tuple[list[Offer], list[QueueCallEvent], list[CancelOffer]]:
    taken = a.take_effects()
    return (
        [e for e in taken if isinstance(e, Offer)],
        [e for e in taken if isinstance(e, QueueCallEvent)],
        [e for e in taken if isinstance(e, CancelOffer)],
    )


def test_a_callback_keeps_the_place_of_the_call_it_replaces() -> None:
    a = acd()
    for n in range(3):
        a.enqueue(f"c{n}", "q1", T0 + n, caller=f"+49301234{n}")
    callback = a.request_callback("q1", "+4930123451", T0 + 10, replaces="c1")
    _, events, _ = effects(a)
    assert [(e.step, e.call_id) for e in events][-2:] == [
        (QueueCallKind.CALLBACK, "c1"),
        (QueueCallKind.ENQUEUED, callback.call_id),
    ]
    assert events[-2].target == callback.call_id
    assert "c1" not in a.calls
    assert a.position(callback) == 2  # behind c0, ahead of c2
    ready(a, "a1")
    a.outcome("c0", "a1", a.agents["a1"].offer_id or "", ConnectResult.ANSWERED, T0 + 11)
    a.call_ended("c0", T0 + 20)
    offers, _, _ = effects(a)
    assert offers[-1].call_id == callback.call_id
    assert offers[-1].number == "+4930123451"
    assert offers[-1].attempt_id is not None and offers[-1].attempt_id != callback.call_id


def test_a_callback_try_rings_the_agent_then_the_customer_and_ends() -> None:
    a = acd(agents=1)
    ready(a, "a1")
    callback = a.request_callback("q1", "+4930123451", T0)
    (offer,), _, _ = effects(a)
    attempt = offer.attempt_id or ""
    assert a.outcome(attempt, "a1", offer.offer_id, ConnectResult.ANSWERED, T0 + 3)
    assert a.agents["a1"].state is AgentState.ON_CALL
    assert not a.left_agent(attempt, "a1", T0 + 4)  # call-manager rings the customer: still the agent's
    assert a.call_ended(attempt, T0 + 90)
    _, events, _ = effects(a)
    assert events[-1].step is QueueCallKind.ENDED and events[-1].call_id == callback.call_id
    assert callback.call_id not in a.calls and not a.attempts
    assert a.agents["a1"].state is AgentState.READY and a.agents["a1"].calls_handled == 1


def test_an_unreached_customer_is_tried_again_later_then_given_up() -> None:
    a = acd(agents=1)
    ready(a, "a1")
    callback = a.request_callback("q1", "+4930123451", T0, attempts=2, retry_after_s=60)
    now = T0
    for attempt_number in (1, 2):
        (offer,), _, _ = effects(a)
        assert a.outcome(offer.attempt_id or "", "a1", offer.offer_id, ConnectResult.ANSWERED, now + 1)
        assert a.call_ended(offer.attempt_id or "", now + 20, unreached=True)
        _, events, _ = effects(a)
        assert events[-1].step is QueueCallKind.UNREACHED
        if attempt_number == 1:
            assert "again later" in (events[-1].reason or "")
            assert callback.status is CallStatus.SCHEDULED
            a.tick(now + 60)  # not yet: 60 s after the end of the try
            assert callback.status is CallStatus.SCHEDULED
            now += 81
            a.tick(now)
    assert "given up" in (events[-1].reason or "")
    assert callback.call_id not in a.calls


def test_an_agent_who_misses_a_callback_is_paused_and_the_callback_waits_again() -> None:
    a = acd(agents=2, strategy="round_robin")
    ready(a, "a1")
    callback = a.request_callback("q1", "+4930123451", T0)
    (offer,), _, _ = effects(a)
    # call-manager's end of the try may come before the outcome: the same either way
    assert a.call_ended(offer.attempt_id or "", T0 + 11, unreached=True)
    assert a.agents["a1"].state is AgentState.NOT_READY and a.agents["a1"].reason == "missed"
    assert callback.status is CallStatus.WAITING
    assert not a.outcome(offer.attempt_id or "", "a1", offer.offer_id, ConnectResult.NO_ANSWER, T0 + 12)
    ready(a, "a2", now=T0 + 13)
    offers, _, _ = effects(a)
    assert offers[-1].agent_id == "a2" and offers[-1].attempt_id != offer.attempt_id


def test_a_callback_waits_for_its_window_and_expires_with_it() -> None:
    a = acd(agents=1)
    ready(a, "a1")
    a.request("a1", AgentRequest.NOT_READY, "meeting", T0)
    callback = a.request_callback("q1", "+4930123451", T0, not_before=T0 + 3600, not_after=T0 + 7200)
    assert callback.status is CallStatus.SCHEDULED
    a.request("a1", AgentRequest.READY, None, T0 + 10)
    assert a.agents["a1"].state is AgentState.READY  # not offered before the window
    a.tick(T0 + 3600)
    assert a.agents["a1"].state is AgentState.RESERVED
    a.request("a1", AgentRequest.NOT_READY, "lunch", T0 + 3601)
    a.tick(T0 + 7200)
    _, events, _ = effects(a)
    assert events[-1].step is QueueCallKind.TIMED_OUT and events[-1].reason == "callback window closed"
    assert callback.call_id not in a.calls
    with pytest.raises(InvalidCallback):
        a.request_callback("q1", "+4930123451", T0, not_before=T0 + 60, not_after=T0 + 30)


def test_ring_all_offers_one_agent_per_callback_and_the_line_ignores_closed_queues() -> None:
    a = acd(agents=3, strategy="ring_all", max_length=1, join_empty=False)
    callback = a.request_callback("q1", "+4930123451", T0)  # nobody logged in, still accepted
    ready(a, "a1", "a2", "a3")
    offers, _, _ = effects(a)
    assert len(offers) == 1 and offers[0].call_id == callback.call_id


def test_a_connected_call_cannot_become_a_callback_and_a_cancelled_one_withdraws_its_ring() -> None:
    a = acd(agents=1)
    ready(a, "a1")
    a.enqueue("c1", "q1", T0)
    a.outcome("c1", "a1", a.agents["a1"].offer_id or "", ConnectResult.ANSWERED, T0 + 1)
    with pytest.raises(InvalidTransition):
        a.request_callback("q1", "+4930123451", T0 + 2, replaces="c1")
    a.call_ended("c1", T0 + 3)
    a.take_effects()
    callback = a.request_callback("q1", "+4930123451", T0 + 4)
    (offer,), _, _ = effects(a)
    a.dequeue(callback.call_id, "cancelled", T0 + 5)
    _, _, cancels = effects(a)
    assert cancels == [CancelOffer(offer.attempt_id or "", "a1", offer.offer_id)]
    assert a.agents["a1"].state is AgentState.READY and not a.attempts


def test_overflow_to_callback_keeps_the_callers_place() -> None:
    a = acd(agents=1, overflow_target="callback", overflow_after_s=30)
    a.enqueue("c1", "q1", T0, caller="+4930123451")
    a.enqueue("c2", "q1", T0 + 1, caller="anonymous")
    a.tick(T0 + 31)
    _, events, _ = effects(a)
    steps = [(e.step, e.call_id) for e in events[2:]]
    assert steps[0] == (QueueCallKind.CALLBACK, "c1")
    assert (QueueCallKind.OVERFLOWED, "c2") in steps  # no number to call back: the caller is told
    (callback,) = a.calls.values()
    assert callback.callback is not None and callback.callback.replaced == "c1"


def test_reconciliation_ends_what_call_manager_no_longer_has() -> None:
    a = acd(agents=2)
    ready(a, "a1", "a2")
    a.enqueue("c1", "q1", T0)
    a.enqueue("c2", "q1", T0)
    a.outcome("c1", "a1", a.agents["a1"].offer_id or "", ConnectResult.ANSWERED, T0 + 1)
    a.enqueue("c3", "q1", T0 + 100)  # came after the question: left alone
    assert a.reconcile({"c1"}, T0 + 50, T0 + 101) == 1
    assert set(a.calls) == {"c1", "c3"}
    assert a.agents["a2"].state is AgentState.RESERVED  # c2 is gone: a2 took c3 at once
    assert a.agents["a2"].call_id == "c3"
