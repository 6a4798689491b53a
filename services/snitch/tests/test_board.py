"""The real-time board as pure logic: KPI definitions, order- and duplicate-proof counting, the day."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callisto_protocol.agents import AgentState, AgentStateChanged
from callisto_protocol.queues import QueueCallEvent, QueueCallKind
from callisto_snitch.board import Board
from callisto_snitch.definitions import DEMO_DEFINITIONS, Definitions, read_definitions

pytestmark = pytest.mark.unit
K = QueueCallKind
S = AgentState
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC).timestamp()
DEFS = Definitions.model_validate(
    {
        "defaults": {"service_level_s": 20, "short_abandon_s": 5},
        "lines": {"water": {"name": "Water", "queues": ["q1", "q2"]}},
    }
)


def step(kind: QueueCallKind, call: str, at: float, *, queue: str = "q1", **extra: Any) -> QueueCallEvent:
    return QueueCallEvent(
        queue_id=queue, step=kind, call_id=call, at=datetime.fromtimestamp(T0 + at, UTC), **extra
    )


def state(agent: str, seq: int, st_: AgentState, at: float, **extra: Any) -> AgentStateChanged:
    return AgentStateChanged(
        agent_id=agent, seq=seq, state=st_, since=datetime.fromtimestamp(T0 + at, UTC), queues=["q1"], **extra
    )


def feed(board: Board, events: list[Any], now: float = T0 + 1000) -> None:
    for event in events:
        board.apply(event, now)


def day_of_one_agent() -> list[Any]:
    """Three callers: one answered after 8 s (talk 30 s, wrap-up 10 s), one gives up after 3 s (a
    short abandon), one after 40 s; one is still waiting since second 100."""
    return [
        state("a1", 0, S.READY, 0),
        step(K.ENQUEUED, "c1", 10),
        step(K.OFFERED, "c1", 16, agent_id="a1"),
        state("a1", 1, S.RESERVED, 16, call_id="c1"),
        step(K.ANSWERED, "c1", 18, agent_id="a1", waited_s=8),
        state("a1", 2, S.ON_CALL, 18, call_id="c1"),
        step(K.ENQUEUED, "c2", 20),
        step(K.ABANDONED, "c2", 23, waited_s=3),
        step(K.ENQUEUED, "c3", 30),
        step(K.ENDED, "c1", 48, agent_id="a1"),
        state("a1", 3, S.WRAP_UP, 48, call_id="c1"),
        state("a1", 4, S.READY, 58),
        step(K.ABANDONED, "c3", 70, waited_s=40),
        step(K.ENQUEUED, "c4", 100),
    ]


def test_the_kpis_of_a_queue_follow_the_definitions() -> None:
    board = Board(DEFS)
    feed(board, day_of_one_agent())
    q = board.snapshot(T0 + 110)["queues"]["q1"]
    assert (q["offered"], q["answered"], q["abandoned"], q["short_abandoned"]) == (4, 1, 2, 1)
    assert q["waiting"] == 1 and q["longest_wait_s"] == 10.0
    assert q["service_level_answered"] == 1.0
    assert q["service_level_with_abandons"] == 0.5  # 1 in time / (1 answered + 1 abandon after 5 s)
    assert q["service_level"] == 0.5  # the default basis counts abandons
    assert q["abandon_rate"] == round(1 / 3, 4)  # (2 - 1 short) / (4 - 1 short)
    assert q["asa_s"] == 8.0
    assert q["aht_s"] == 40.0  # 30 s talk + 10 s wrap-up
    assert q["agents"]["ready"] == 1 and q["staffed"] == 1
    # busy 40 s (talk + wrap) of 40 + 18 + 2 + 52 available (ready 0-16, reserved 16-18, ready 58-110)
    assert q["occupancy"] == round(40 / (40 + 16 + 2 + 52), 4)
    assert q["colours"]["service_level"] == "red" and q["colours"]["asa_s"] == "green"


def test_a_line_adds_up_its_queues() -> None:
    board = Board(DEFS)
    feed(board, day_of_one_agent())
    feed(
        board, [step(K.ENQUEUED, "x1", 105, queue="q2"), step(K.ANSWERED, "x1", 106, queue="q2", waited_s=1)]
    )
    line = board.snapshot(T0 + 110)["lines"]["water"]
    assert line["offered"] == 5 and line["answered"] == 2 and line["waiting"] == 1
    assert line["asa_s"] == 4.5 and line["queues"] == ["q1", "q2"]
    assert line["agents"]["ready"] == 1  # the agent serves q1 only, counted once


@settings(max_examples=150, deadline=None)
@given(st.randoms(use_true_random=False), st.integers(min_value=0, max_value=6))
def test_order_and_duplicates_change_nothing(rnd: random.Random, duplicates: int) -> None:
    events = day_of_one_agent()
    in_order = Board(DEFS)
    feed(in_order, events)
    shuffled = events + [rnd.choice(events) for _ in range(duplicates)]
    rnd.shuffle(shuffled)
    board = Board(DEFS)
    feed(board, shuffled)
    assert board.snapshot(T0 + 110) == in_order.snapshot(T0 + 110)
    assert board.agent_rows(T0 + 110) == in_order.agent_rows(T0 + 110)


def test_an_agents_day() -> None:
    board = Board(DEFS)
    feed(board, day_of_one_agent())
    (row,) = board.agent_rows(T0 + 110)
    assert row["state"] == "ready" and row["in_state_s"] == 52.0 and row["handled"] == 1
    assert row["seconds"]["on_call"] == 30.0 and row["seconds"]["wrap_up"] == 10.0
    assert row["seconds"]["ready"] == 16.0 + 52.0


def test_a_new_day_starts_from_zero_but_keeps_who_waits() -> None:
    board = Board(DEFS)
    feed(board, day_of_one_agent())
    tomorrow = T0 + 24 * 3600
    snap = board.snapshot(tomorrow)
    q = snap["queues"]["q1"]
    assert (q["offered"], q["answered"], q["abandoned"]) == (0, 0, 0)
    assert q["waiting"] == 1  # c4 still waits
    (row,) = board.agent_rows(tomorrow)
    assert row["seconds"]["ready"] == round(tomorrow - board.day_start, 1)  # since midnight only
    feed(board, [step(K.ANSWERED, "c4", 24 * 3600 + 5, waited_s=30)], tomorrow + 5)
    assert board.snapshot(tomorrow + 10)["queues"]["q1"]["answered"] == 1


def test_callbacks_are_counted_apart_from_calls() -> None:
    board = Board(DEFS)
    feed(
        board,
        [
            step(K.ENQUEUED, "c1", 0),
            step(K.CALLBACK, "c1", 30, waited_s=30, target="cb1"),
            step(K.ENQUEUED, "cb1", 30, reason="callback"),
            step(K.ANSWERED, "cb1", 60, agent_id="a1"),
            step(K.UNREACHED, "cb1", 90, reason="try 1 of 3; again later"),
            step(K.ANSWERED, "cb1", 400, agent_id="a1"),
            step(K.ENDED, "cb1", 500),
        ],
    )
    q = board.snapshot(T0 + 600)["queues"]["q1"]
    assert (q["offered"], q["to_callback"], q["answered"], q["waiting"]) == (1, 1, 0, 0)
    assert (q["callbacks_requested"], q["callbacks_done"], q["callbacks_pending"]) == (1, 1, 0)


def test_the_demo_definitions_read() -> None:
    definitions = read_definitions(DEMO_DEFINITIONS)
    assert definitions.queue("emergencies").service_level_s == 10
    assert definitions.queue("emergencies").targets.asa_s == 10
    assert definitions.queue("emergencies").targets.occupancy == 0.85  # from the defaults
    assert definitions.queue("unknown").name == ""


def test_bad_definitions_are_refused(tmp_path: Any) -> None:
    from callisto_snitch.errors import InvalidDefinitions

    bad = tmp_path / "kpi.yaml"
    bad.write_text("queues: {q1: {service_level_s: -3}}\n")
    with pytest.raises(InvalidDefinitions, match="q1"):
        read_definitions(bad)
    bad.write_text("lines: {l1: {queues: []}}\n")
    with pytest.raises(InvalidDefinitions):
        read_definitions(bad)


def test_new_definitions_regroup_the_lines_and_keep_the_days_counts() -> None:
    board = Board(DEFS)
    feed(board, day_of_one_agent())
    board.dirty_agents.clear()
    regrouped = Definitions.model_validate(
        {
            "defaults": {"service_level_s": 5, "targets": {"asa_s": 5}},
            "lines": {"first": {"name": "First", "queues": ["q1"]}, "new": {"queues": ["q3"]}},
        }
    )
    board.use(regrouped)
    snap = board.snapshot(T0 + 1000)
    assert set(snap["lines"]) == {"first", "new"} and board.dropped_lines == {"water"}
    assert snap["lines"]["first"]["offered"] == 4  # the day's calls, counted again under the new line
    assert snap["lines"]["first"]["agents"]["ready"] == 1  # the agent of q1 now belongs to it
    # a threshold counts calls from now on (the 8 s answer stays in); targets colour at once
    q1 = snap["queues"]["q1"]
    assert q1["service_level_answered"] == 1.0 and q1["service_level_s"] == 5
    assert q1["colours"]["asa_s"] == "red" and "q3" in snap["queues"]
    assert board.dirty_agents == {"a1"}  # its row (its lines) is written again
    board.use(DEFS)
    assert board.dropped_lines == {"first", "new"}  # "water" is back: not dropped any more
