"""Agent and call books: stale and duplicate events never resurrect an old state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callisto_core_bus.lists import AgentBook, CallBook
from callisto_protocol.agents import AgentState, AgentStateChanged
from callisto_protocol.calls import CallState, CallStateChanged

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def agent(agent_id: str, seq: int, state: AgentState) -> AgentStateChanged:
    return AgentStateChanged(agent_id=agent_id, seq=seq, state=state, since=T0)


def test_deltas_gather_changes_and_are_numbered() -> None:
    book = AgentBook()
    assert book.take_delta() is None
    book.apply(agent("a1", 1, AgentState.READY))
    book.apply(agent("a1", 2, AgentState.RESERVED))
    book.apply(agent("a2", 1, AgentState.NOT_READY))
    seq, upserted, removed = book.take_delta()  # type: ignore[misc]
    assert seq == 1 and removed == []
    assert [(e.agent_id, e.state) for e in upserted] == [
        ("a1", AgentState.RESERVED),
        ("a2", AgentState.NOT_READY),
    ]
    book.apply(agent("a2", 2, AgentState.LOGGED_OUT))
    assert book.take_delta() == (2, [], ["a2"])
    assert [e.agent_id for e in book.entries()] == ["a1"]


def test_stale_and_duplicate_events_are_ignored() -> None:
    book = AgentBook()
    assert book.apply(agent("a1", 5, AgentState.ON_CALL))
    assert not book.apply(agent("a1", 5, AgentState.ON_CALL))
    assert not book.apply(agent("a1", 4, AgentState.READY))
    assert book.entries()[0].state is AgentState.ON_CALL


def test_an_ended_call_leaves_the_list_and_late_events_do_not_bring_it_back() -> None:
    book = CallBook()
    book.apply(CallStateChanged(call_id="c1", seq=1, state=CallState.QUEUED, since=T0))
    book.apply(CallStateChanged(call_id="c1", seq=3, state=CallState.ENDED, since=T0))
    book.apply(CallStateChanged(call_id="c1", seq=2, state=CallState.CONNECTED, since=T0))
    assert book.entries() == []


@given(
    st.lists(
        st.tuples(st.sampled_from(["a1", "a2", "a3"]), st.integers(0, 30), st.sampled_from(list(AgentState))),
        max_size=60,
    )
)
def test_the_book_holds_each_agents_highest_sequence_whatever_the_order(
    events: list[tuple[str, int, AgentState]],
) -> None:
    book = AgentBook()
    for agent_id, seq, state in events:
        book.apply(agent(agent_id, seq, state))
    latest: dict[str, tuple[int, AgentState]] = {}
    for agent_id, seq, state in events:
        if agent_id not in latest or seq > latest[agent_id][0]:
            latest[agent_id] = (seq, state)
    mirror = {a: state for a, (_, state) in latest.items() if state is not AgentState.LOGGED_OUT}
    assert {e.agent_id: e.state for e in book.entries()} == mirror
