"""Help requests, without servers: raised, taken by one supervisor, cancelled, closed, escalated."""

from __future__ import annotations

import pytest

from callisto_protocol.help import HelpState
from callisto_protocol.queues import AgentRequest, ConnectResult
from callisto_queue_manager.acd import Acd
from callisto_queue_manager.assistance import Help, HelpBoard
from callisto_queue_manager.errors import HelpTaken, InvalidTransition, UnknownHelpRequest
from callisto_queue_manager.model import AgentProfile, QueueConfig

pytestmark = pytest.mark.unit
T0 = 1_800_000_000.0


def test_one_supervisor_takes_a_request_and_the_others_see_it_taken() -> None:
    board = HelpBoard(response_s=30)
    raised = board.raise_help("a1", "angry caller", "c1", T0)
    assert board.raise_help("a1", "again", None, T0 + 1) is raised  # one live request per operator
    board.accept(raised.request_id, "sup-1", T0 + 5)
    board.accept(raised.request_id, "sup-1", T0 + 6)  # a repeat changes nothing
    with pytest.raises(HelpTaken) as taken:
        board.accept(raised.request_id, "sup-2", T0 + 7)
    assert taken.value.details["supervisor_id"] == "sup-1"
    board.close(raised.request_id, "sorted out", T0 + 60)
    assert [(e.step, e.request.state) for e in board.take_effects()] == [
        ("raised", HelpState.OPEN),
        ("accepted", HelpState.ACCEPTED),
        ("closed", HelpState.CLOSED),
    ]
    assert not board.requests
    with pytest.raises(UnknownHelpRequest):
        board.close(raised.request_id, "", T0 + 61)


def test_an_unanswered_request_is_escalated_up_to_the_top_level() -> None:
    board = HelpBoard(response_s=30, max_level=3)
    raised = board.raise_help("a1", "legal threat", None, T0)
    board.tick(T0 + 29)
    assert raised.level == 1
    board.tick(T0 + 30)
    board.tick(T0 + 60)
    board.tick(T0 + 600)
    assert raised.level == 3 and raised.deadline is None
    steps = [e.step for e in board.take_effects()]
    assert steps == ["raised", "escalated", "escalated"]
    board.accept(raised.request_id, "head-of-service", T0 + 601)
    assert raised.state is HelpState.ACCEPTED


def test_only_the_operator_cancels_their_request_and_ended_ones_stay_ended() -> None:
    board = HelpBoard()
    raised = board.raise_help("a1", "need advice", None, T0)
    with pytest.raises(InvalidTransition):
        board.cancel(raised.request_id, "a2", T0 + 1)
    board.cancel(raised.request_id, "a1", T0 + 2)
    assert raised.state is HelpState.CANCELLED and raised.ended_at == T0 + 2
    with pytest.raises(UnknownHelpRequest):
        board.accept(raised.request_id, "sup-1", T0 + 3)
    again = board.raise_help("a1", "need advice", None, T0 + 4)
    assert again.request_id != raised.request_id


def test_requests_survive_as_records_and_are_raised_about_the_current_call() -> None:
    acd = Acd([QueueConfig(id="q1")], [AgentProfile(id="a1")], seed=1)
    with pytest.raises(InvalidTransition):
        acd.raise_help("a1", "help", None, T0)  # logged out
    acd.request("a1", AgentRequest.LOGIN, None, T0)
    acd.request("a1", AgentRequest.READY, None, T0)
    acd.enqueue("c1", "q1", T0)
    acd.outcome("c1", "a1", acd.agents["a1"].offer_id or "", ConnectResult.ANSWERED, T0 + 1)
    raised = acd.raise_help("a1", "caller threatens legal action", None, T0 + 2)
    assert raised.call_id == "c1"
    copy = Help.from_record(raised.record())
    assert copy == raised
    fresh = HelpBoard()
    fresh.restore([copy])
    assert fresh.of_agent("a1") == raised
