"""The ACD's decisions, without servers: states, strategies, order of service, misses, overflow."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callisto_protocol.agents import AgentState, AgentStateChanged
from callisto_protocol.queues import AgentRequest, CallDisposed, ConnectResult, QueueCallEvent, QueueCallKind
from callisto_queue_manager.acd import MAX_OVERFLOWS, Acd, CancelOffer, Offer
from callisto_queue_manager.errors import (
    CallAlreadyQueued,
    InvalidTransition,
    OverflowCycle,
    QueueClosed,
    QueueEmpty,
    QueueFull,
    UnknownAgent,
    UnknownCode,
    UnknownQueue,
)
from callisto_queue_manager.model import AgentProfile, Calendar, CallStatus, Code, QueueConfig, Strategy

pytestmark = pytest.mark.unit
T0 = 1_800_000_000.0


def acd(*queues: QueueConfig, agents: int = 3, skills: dict[str, int] | None = None) -> Acd:
    return Acd(
        queues or (QueueConfig(id="q1", ring_timeout_s=10, wrap_up_s=5),),
        [AgentProfile(id=f"a{i}", skills=skills or {}) for i in range(1, agents + 1)],
        seed=7,
    )


def ready(a: Acd, *agent_ids: str, now: float = T0) -> None:
    for agent_id in agent_ids:
        a.request(agent_id, AgentRequest.LOGIN, None, now)
        a.request(agent_id, AgentRequest.READY, None, now)


def offers(a: Acd) -> list[Offer]:
    return [e for e in a.take_effects() if isinstance(e, Offer)]


def test_an_agent_goes_through_a_call() -> None:
    a = acd()
    ready(a, "a1")
    a.take_effects()
    a.enqueue("c1", "q1", T0 + 1, caller="+4930123")
    effects = a.take_effects()
    (offer,) = [e for e in effects if isinstance(e, Offer)]
    assert (offer.call_id, offer.agent_id, offer.ring_timeout_s) == ("c1", "a1", 10)
    kinds = [e.step for e in effects if isinstance(e, QueueCallEvent)]
    assert kinds == [QueueCallKind.ENQUEUED, QueueCallKind.OFFERED]
    assert a.agents["a1"].state is AgentState.RESERVED
    assert a.outcome("c1", "a1", offer.offer_id, ConnectResult.ANSWERED, T0 + 4)
    assert a.agents["a1"].state is AgentState.ON_CALL
    assert a.call_ended("c1", T0 + 64)
    assert a.agents["a1"].state is AgentState.WRAP_UP
    a.tick(T0 + 68)
    assert a.agents["a1"].state is AgentState.WRAP_UP  # 5 s of wrap-up
    a.tick(T0 + 69)
    assert a.agents["a1"].state is AgentState.READY
    states = [e for e in a.take_effects() if isinstance(e, AgentStateChanged)]
    assert [s.state for s in states] == [AgentState.ON_CALL, AgentState.WRAP_UP, AgentState.READY]
    assert [s.seq for s in states] == [4, 5, 6]  # one step per change, never repeated
    assert a.agents["a1"].calls_handled == 1 and "c1" not in a.calls


def test_requests_are_idempotent_and_transitions_are_checked() -> None:
    a = acd()
    with pytest.raises(InvalidTransition):
        a.request("a1", AgentRequest.READY, None, T0)  # logged out
    with pytest.raises(UnknownAgent):
        a.request("nobody", AgentRequest.LOGIN, None, T0)
    a.request("a1", AgentRequest.LOGIN, None, T0)
    seq = a.agents["a1"].seq
    a.request("a1", AgentRequest.LOGIN, None, T0)
    a.request("a1", AgentRequest.NOT_READY, "login", T0)
    assert a.agents["a1"].seq == seq  # nothing changed
    a.request("a1", AgentRequest.READY, None, T0)
    a.enqueue("c1", "q1", T0)
    offer = offers(a)[0]
    a.outcome("c1", "a1", offer.offer_id, ConnectResult.ANSWERED, T0 + 1)
    with pytest.raises(InvalidTransition):
        a.request("a1", AgentRequest.LOGOUT, None, T0 + 2)
    a.request("a1", AgentRequest.NOT_READY, "lunch", T0 + 2)  # asked during the call: after it
    assert a.agents["a1"].state is AgentState.ON_CALL
    a.call_ended("c1", T0 + 30)
    a.tick(T0 + 40)
    assert (a.agents["a1"].state, a.agents["a1"].reason) == (AgentState.NOT_READY, "lunch")


def test_a_missed_offer_pauses_the_agent_and_the_next_one_gets_the_call() -> None:
    a = acd()
    ready(a, "a1", now=T0)
    ready(a, "a2", now=T0 + 1)
    a.take_effects()
    a.enqueue("c1", "q1", T0 + 2)
    first = offers(a)[0]
    assert first.agent_id == "a1"  # longest idle
    assert a.outcome("c1", "a1", first.offer_id, ConnectResult.NO_ANSWER, T0 + 12)
    effects = a.take_effects()
    second = next(e for e in effects if isinstance(e, Offer))
    assert second.agent_id == "a2"
    assert [e.step for e in effects if isinstance(e, QueueCallEvent)] == [
        QueueCallKind.MISSED,
        QueueCallKind.OFFERED,
    ]
    agent = a.agents["a1"]
    assert (agent.state, agent.reason, agent.missed_in_row, agent.missed_total) == (
        AgentState.NOT_READY,
        "missed",
        1,
        1,
    )
    assert not a.outcome("c1", "a1", first.offer_id, ConnectResult.ANSWERED, T0 + 13)  # stale: ignored
    assert a.agents["a1"].state is AgentState.NOT_READY


def test_an_offer_without_outcome_is_taken_back() -> None:
    a = acd()
    ready(a, "a1")
    a.enqueue("c1", "q1", T0)
    a.take_effects()
    a.tick(T0 + 14)  # ring timeout 10 s + 5 s margin not yet over
    assert a.agents["a1"].state is AgentState.RESERVED
    a.tick(T0 + 15.1)
    assert (a.agents["a1"].state, a.agents["a1"].reason) == (AgentState.NOT_READY, "missed")
    assert a.calls["c1"].status is CallStatus.WAITING


def test_fifo_within_a_priority_and_priority_first() -> None:
    a = acd()
    for n, priority in enumerate([0, 0, 5, 0]):
        a.enqueue(f"c{n}", "q1", T0 + n, priority=priority)
    assert [a.position(a.calls[f"c{n}"]) for n in range(4)] == [2, 3, 1, 4]
    ready(a, "a1", now=T0 + 10)
    assert offers(a)[0].call_id == "c2"


def test_aging_lets_a_low_priority_caller_beat_newcomers() -> None:
    queue = QueueConfig(id="q1", priority_step_s=30)
    a = acd(queue)
    a.enqueue("old-low", "q1", T0, priority=0)
    a.enqueue("new-high", "q1", T0 + 100, priority=3)  # 100 s later, worth 90 s: after the old one
    a.enqueue("mid-high", "q1", T0 + 50, priority=2)  # 50 s later, worth 60 s: before it
    assert [c for _, _, c in a.waiting["q1"]] == ["mid-high", "old-low", "new-high"]


def test_an_agent_of_several_queues_takes_the_longest_weighted_wait() -> None:
    sales = QueueConfig(id="sales", skills={"sales": 1})
    vip = QueueConfig(id="vip", skills={"sales": 1}, weight=2, priority_step_s=30)
    a = acd(sales, vip, skills={"sales": 5})
    a.enqueue("s1", "sales", T0)
    a.enqueue("v1", "vip", T0 + 40)  # waited 40 s less, but the queue weighs 60 s
    ready(a, "a1", now=T0 + 50)
    assert offers(a)[0].call_id == "v1"
    ready(a, "a2", now=T0 + 51)
    assert offers(a)[0].call_id == "s1"


@pytest.mark.parametrize(("strategy", "expected"), [
    (Strategy.LONGEST_IDLE, "a1"),
    (Strategy.FEWEST_CALLS, "a3"),
    (Strategy.BEST_FIT, "a2"),
])  # fmt: skip
def test_strategies_choose_among_ready_agents(strategy: Strategy, expected: str) -> None:
    queue = QueueConfig(id="q1", strategy=strategy, skills={"gas": 1}, wrap_up_s=0)
    a = Acd([queue], [AgentProfile(id="a1", skills={"gas": 2}), AgentProfile(id="a2", skills={"gas": 9}),
                      AgentProfile(id="a3", skills={"gas": 3})])  # fmt: skip
    for n, agent_id in enumerate(["a1", "a2"]):  # a1 and a2 handle a call each, a3 none
        ready(a, agent_id, now=T0 + n)
        a.enqueue(f"x{n}", "q1", T0 + n)
        offer = offers(a)[0]
        a.outcome(offer.call_id, offer.agent_id, offer.offer_id, ConnectResult.ANSWERED, T0 + n)
        a.call_ended(offer.call_id, T0 + n + 1)
    a.agents["a1"].idle_since = T0 - 100  # idle the longest
    ready(a, "a3", now=T0 + 5)
    a.take_effects()
    a.enqueue("c1", "q1", T0 + 10)
    assert offers(a)[0].agent_id == expected


def test_round_robin_remembers_where_it_was() -> None:
    a = acd(QueueConfig(id="q1", strategy=Strategy.ROUND_ROBIN, wrap_up_s=0))
    ready(a, "a1", "a2", "a3")
    chosen = []
    for n in range(4):
        a.take_effects()
        a.enqueue(f"c{n}", "q1", T0 + n)
        offer = offers(a)[0]
        chosen.append(offer.agent_id)
        a.outcome(offer.call_id, offer.agent_id, offer.offer_id, ConnectResult.ANSWERED, T0 + n)
        a.call_ended(offer.call_id, T0 + n)
    assert chosen == ["a1", "a2", "a3", "a1"]


def test_ring_all_connects_the_first_to_answer_and_frees_the_others() -> None:
    a = acd(QueueConfig(id="q1", strategy=Strategy.RING_ALL))
    ready(a, "a1", "a2", "a3")
    a.take_effects()
    a.enqueue("c1", "q1", T0)
    ringing = offers(a)
    assert sorted(o.agent_id for o in ringing) == ["a1", "a2", "a3"]
    winner = ringing[1]
    a.outcome("c1", winner.agent_id, winner.offer_id, ConnectResult.ANSWERED, T0 + 3)
    effects = a.take_effects()
    assert sorted(e.agent_id for e in effects if isinstance(e, CancelOffer)) == ["a1", "a3"]
    assert [ag.state for ag in a.agents.values()] == [AgentState.READY, AgentState.ON_CALL, AgentState.READY]


def test_the_personal_manager_has_the_call_first_then_anyone() -> None:
    a = acd(QueueConfig(id="q1", personal_wait_s=20))
    ready(a, "a1")
    a.request("a2", AgentRequest.LOGIN, None, T0)  # logged in, not ready
    a.take_effects()
    a.enqueue("c1", "q1", T0, personal_agent_id="a2")
    assert offers(a) == []  # a1 is ready, but the caller's own agent is a2
    a.tick(T0 + 19)
    assert offers(a) == []
    a.tick(T0 + 20)
    assert offers(a)[0].agent_id == "a1"


def test_the_personal_manager_who_is_logged_out_is_not_waited_for() -> None:
    a = acd()
    ready(a, "a1")
    a.take_effects()
    a.enqueue("c1", "q1", T0, personal_agent_id="a2")
    assert offers(a)[0].agent_id == "a1"


def test_extra_skills_of_a_call_narrow_the_agents() -> None:
    a = Acd(
        [QueueConfig(id="q1")],
        [AgentProfile(id="a1", skills={"de": 3}), AgentProfile(id="a2", skills={"de": 8})],
    )
    ready(a, "a1", "a2")
    a.take_effects()
    a.enqueue("c1", "q1", T0, skills={"de": 5})
    assert offers(a)[0].agent_id == "a2"


def test_skill_changes_move_an_agent_between_queues() -> None:
    a = acd(QueueConfig(id="water", skills={"water": 1}))
    a.enqueue("c1", "water", T0)
    ready(a, "a1")
    assert offers(a) == []  # no skill
    a.set_agent(AgentProfile(id="a1", skills={"water": 4}), T0 + 1)
    assert offers(a)[0].call_id == "c1"


def test_refusals_name_the_overflow_target() -> None:
    full = QueueConfig(id="full", max_length=1, overflow_target="queue:backup")
    empty = QueueConfig(id="empty", join_empty=False, overflow_target="number:+4930999")
    closed = QueueConfig(
        id="closed",
        hours=Calendar(timezone="Europe/Berlin", weekly={0: [{"start": "08:00", "end": "18:00"}]}),
    )  # type: ignore[list-item]
    a = acd(full, empty, closed, QueueConfig(id="backup"))
    a.enqueue("c1", "full", T0)
    with pytest.raises(QueueFull) as refused:
        a.enqueue("c2", "full", T0)
    assert refused.value.details["overflow_target"] == "queue:backup"
    with pytest.raises(QueueEmpty):
        a.enqueue("c3", "empty", T0)
    sunday = datetime(2027, 1, 3, 12, tzinfo=UTC).timestamp()
    with pytest.raises(QueueClosed):
        a.enqueue("c4", "closed", sunday)
    monday_10_berlin = datetime(2027, 1, 4, 9, tzinfo=UTC).timestamp()
    assert a.enqueue("c5", "closed", monday_10_berlin).queue_id == "closed"
    with pytest.raises(UnknownQueue):
        a.enqueue("c6", "nowhere", T0)
    with pytest.raises(CallAlreadyQueued):
        a.enqueue("c1", "backup", T0)
    assert a.enqueue("c1", "full", T0 + 5).entered_at == T0  # repeated: keeps its place


def test_overflow_to_another_queue_keeps_the_first_time_and_max_wait_ends_the_wait() -> None:
    main = QueueConfig(id="main", overflow_after_s=30, overflow_target="queue:backup")
    backup = QueueConfig(id="backup", max_wait_s=60)
    a = acd(main, backup)
    a.enqueue("c1", "main", T0)
    a.tick(T0 + 30)
    call = a.calls["c1"]
    assert (call.queue_id, call.first_entered_at, call.entered_at) == ("backup", T0, T0 + 30)
    kinds = [(e.queue_id, e.step) for e in a.take_effects() if isinstance(e, QueueCallEvent)]
    assert kinds[-2:] == [("main", QueueCallKind.OVERFLOWED), ("backup", QueueCallKind.ENQUEUED)]
    a.tick(T0 + 60)  # 60 s since the first queue
    assert "c1" not in a.calls
    (last,) = [e for e in a.take_effects() if isinstance(e, QueueCallEvent)]
    assert (last.step, last.waited_s) == (QueueCallKind.TIMED_OUT, 60.0)


def test_callers_leave_when_the_last_agent_logs_out() -> None:
    a = acd(QueueConfig(id="q1", leave_empty=True))
    a.request("a1", AgentRequest.LOGIN, None, T0)
    a.enqueue("c1", "q1", T0)
    a.request("a1", AgentRequest.LOGOUT, None, T0 + 1)
    assert "c1" not in a.calls


def test_caller_hangs_up_while_ringing_and_while_waiting() -> None:
    a = acd()
    ready(a, "a1")
    a.enqueue("c1", "q1", T0)
    a.enqueue("c2", "q1", T0)
    a.take_effects()
    a.call_ended("c1", T0 + 3)  # ringing at a1: a1 is freed and takes c2
    effects = a.take_effects()
    assert any(isinstance(e, CancelOffer) and e.call_id == "c1" for e in effects)
    assert [o.call_id for o in effects if isinstance(o, Offer)] == ["c2"]
    a.enqueue("c3", "q1", T0 + 4)
    a.dequeue("c3", "abandoned", T0 + 9)
    event = [e for e in a.take_effects() if isinstance(e, QueueCallEvent)][-1]
    assert (event.step, event.waited_s) == (QueueCallKind.ABANDONED, 5.0)


def test_expected_wait_follows_position_staffing_and_handle_time() -> None:
    a = acd(QueueConfig(id="q1", default_handle_s=120), agents=2)
    assert a.enqueue("c1", "q1", T0) and a.expected_wait("q1", 1) is None  # nobody staffed
    a.request("a1", AgentRequest.LOGIN, None, T0)
    a.request("a2", AgentRequest.LOGIN, None, T0)
    assert a.expected_wait("q1", 1) is None  # logged in but not ready: not staffed
    ready(a, "a1")
    offer = offers(a)[0]
    a.outcome("c1", "a1", offer.offer_id, ConnectResult.ANSWERED, T0)
    for n in range(2, 5):
        a.enqueue(f"c{n}", "q1", T0)
    assert a.expected_wait("q1", 3) == 3 * 120 / 1
    stats = a.stats("q1", T0 + 30)
    assert (stats["waiting"], stats["longest_wait_s"], stats["staffed"]) == (3, 30.0, 1)


def test_a_transfer_ends_the_first_agents_part_of_the_call() -> None:
    a = acd()
    ready(a, "a1", "a2")
    a.enqueue("c1", "q1", T0 + 1)
    (offer,) = offers(a)
    a.outcome("c1", offer.agent_id, offer.offer_id, ConnectResult.ANSWERED, T0 + 2)
    first = offer.agent_id
    assert not a.left_agent("c1", first, T0 + 3)  # ringing the same agent again is no transfer
    assert a.left_agent("c1", "a9", T0 + 30)  # blind transfer to another agent, outside the ACD
    assert a.agents[first].state is AgentState.WRAP_UP and "c1" not in a.calls
    assert not a.left_agent("c1", "a9", T0 + 31)  # a repeated event changes nothing

    ready(a, "a3")
    a.enqueue("c2", "q1", T0 + 40)
    (offer,) = offers(a)
    a.outcome("c2", offer.agent_id, offer.offer_id, ConnectResult.ANSWERED, T0 + 41)
    again = a.enqueue("c2", "q1", T0 + 60)  # transferred back to the queue: offered to another agent
    assert again.status is CallStatus.OFFERED and offer.agent_id not in again.offered_to
    assert a.agents[offer.agent_id].state is AgentState.WRAP_UP


def test_a_queue_overflowing_back_to_itself_is_refused() -> None:
    a = acd(QueueConfig(id="a", overflow_target="queue:b"), QueueConfig(id="b"))
    with pytest.raises(OverflowCycle) as itself:
        a.set_queue(QueueConfig(id="c", max_wait_s=5, overflow_target="queue:c"))
    assert itself.value.details["cycle"] == ["c", "c"]
    with pytest.raises(OverflowCycle) as through:
        a.set_queue(QueueConfig(id="b", overflow_after_s=10, overflow_target="queue:a"))
    assert through.value.details["cycle"] == ["b", "a", "b"]
    assert a.queues["b"].overflow_target is None and "c" not in a.queues  # nothing changed
    a.set_queue(QueueConfig(id="b", overflow_target="queue:d"))  # a chain without a loop is fine


def test_a_loop_of_queues_cannot_hang_a_tick() -> None:
    """Reproduced before the fix: max wait 1 s and overflow to itself re-entered the call forever
    (hundreds of thousands of effects in seconds). A loop made behind the check (two instances writing
    at once) still ends: a caller is moved through a bounded number of queues, then leaves."""
    a = acd(QueueConfig(id="a", max_wait_s=1, overflow_target="queue:b"), QueueConfig(id="b"))
    a.queues["b"] = QueueConfig(id="b", max_wait_s=1, overflow_target="queue:a")  # behind the check
    a.enqueue("c1", "a", T0, caller="+4930123")
    a.take_effects()
    a.tick(T0 + 2)
    steps = [e for e in a.take_effects() if isinstance(e, QueueCallEvent)]
    assert len(steps) <= 2 * (MAX_OVERFLOWS + 1)
    assert "c1" not in a.calls
    assert steps[-1].step is QueueCallKind.TIMED_OUT and steps[-1].target is None


def test_wrap_up_says_when_it_ends_and_takes_a_disposition_of_the_calls_queue() -> None:
    codes = [Code(code="resolved"), Code(code="escalated")]
    a = acd(QueueConfig(id="q1", wrap_up_s=30, dispositions=codes))
    ready(a, "a1")
    a.enqueue("c1", "q1", T0 + 1)
    (offer,) = offers(a)
    a.outcome("c1", "a1", offer.offer_id, ConnectResult.ANSWERED, T0 + 2)
    with pytest.raises(InvalidTransition):  # not finished yet
        a.dispose("a1", "c1", "resolved", "", T0 + 3, by="p-1")
    a.call_ended("c1", T0 + 10)
    changes = [e for e in a.take_effects() if isinstance(e, AgentStateChanged)]
    (wrap,) = [e for e in changes if e.state is AgentState.WRAP_UP]
    assert wrap.until == datetime.fromtimestamp(T0 + 40, UTC) and wrap.call_id == "c1"
    with pytest.raises(UnknownCode):
        a.dispose("a1", "c1", "made-up", "", T0 + 11, by="p-1")
    with pytest.raises(UnknownCode):  # the queue lists codes: one is needed
        a.dispose("a1", "c1", None, "", T0 + 11, by="p-1")
    with pytest.raises(InvalidTransition):  # another agent's call
        a.dispose("a2", "c1", "resolved", "", T0 + 11, by="p-2")
    said = a.dispose("a1", "c1", "escalated", "water in the cellar", T0 + 12, by="p-1")
    assert [e for e in a.take_effects() if isinstance(e, CallDisposed)] == [said]
    assert (said.queue_id, said.disposition, said.by) == ("q1", "escalated", "p-1")
    assert said.note == "water in the cellar"
    a.request("a1", AgentRequest.READY, None, T0 + 13, by="p-1")  # wrap-up ended early
    assert a.agents["a1"].state is AgentState.READY
    assert a.dispose("a1", "c1", "resolved", "", T0 + 20, by="p-1").disposition == "resolved"  # said again


def test_not_ready_reasons_come_from_the_list_and_a_supervisors_request_is_named() -> None:
    a = acd()
    a.reasons = frozenset({"lunch", "training"})
    a.request("a1", AgentRequest.LOGIN, None, T0)
    with pytest.raises(UnknownCode):
        a.request("a1", AgentRequest.NOT_READY, "nap", T0 + 1)
    a.take_effects()
    a.request("a1", AgentRequest.NOT_READY, "training", T0 + 2, by="supervisor-7")
    (changed,) = [e for e in a.take_effects() if isinstance(e, AgentStateChanged)]
    assert (changed.reason, changed.by, changed.until) == ("training", "supervisor-7", None)
    a.request("a1", AgentRequest.READY, None, T0 + 3)
    (changed,) = [e for e in a.take_effects() if isinstance(e, AgentStateChanged)]
    assert changed.by is None  # nobody named: the service's own step
