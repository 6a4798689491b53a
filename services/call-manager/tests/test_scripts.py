"""The call logic without SIP, rtpengine or a bus: the IVR and queue-wait scripts are driven with the
outcomes a caller and the other services would give, and the effects they ask for are checked."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from callisto_call_manager.calls import QueueRequest
from callisto_call_manager.dialplan import Flow, load
from callisto_call_manager.effects import (
    DialOut,
    Effect,
    Enqueue,
    ForgetKeys,
    HangUp,
    HoldMusic,
    Identify,
    LeaveNumber,
    NextKey,
    Outcome,
    Remember,
    Report,
    Say,
    Script,
)
from callisto_call_manager.ivr import MAX_STEPS, ivr
from callisto_call_manager.settings import DEMO_CONFIG
from callisto_call_manager.waiting import waiting
from callisto_protocol.contacts import ContactCard

pytestmark = pytest.mark.unit
Caller = Callable[[Effect], Outcome]


def run(script: Script, caller: Caller) -> list[Effect]:
    """Every effect ``script`` asks for, each answered by ``caller``, until it ends or waits for a key
    that never comes (as a queued caller who presses nothing: until an agent answers)."""
    seen: list[Effect] = []
    outcome: Outcome = None
    while True:
        try:
            effect = script.send(outcome)
        except StopIteration:
            return seen
        seen.append(effect)
        outcome = caller(effect)
        if effect == NextKey(None) and outcome is None:
            return seen
        assert len(seen) < 10 * MAX_STEPS, "the script never ends"


def presses(*keys: str | None, card: ContactCard | None = None, callback: bool = True) -> Caller:
    """A caller who presses ``keys`` in turn, one for each prompt that may be interrupted or key
    awaited (None: nothing), known as ``card``; queue-manager takes callbacks when ``callback``."""
    left = list(keys)

    def answer(effect: Effect) -> Outcome:
        if (isinstance(effect, Say) and effect.interruptible) or isinstance(effect, NextKey):
            return left.pop(0) if left else None
        if isinstance(effect, Identify):
            return card
        if isinstance(effect, LeaveNumber):
            return callback
        return None

    return answer


def flow(**steps: object) -> Flow:
    return Flow.model_validate({"start": next(iter(steps)), "steps": steps})


WATER = flow(
    welcome={"play": "welcome", "next": "menu"},
    menu={"menu": "choose", "options": {"1": "leaks", "2": "billing"}, "retries": 1, "otherwise": "leaks"},
    leaks={"queue": "emergencies", "priority": 50},
    billing={"queue": "billing", "announce": False, "callback": {"after_s": 60, "key": "5"}},
)


def test_a_menu_choice_leads_to_its_queue() -> None:
    effects = run(ivr(WATER), presses("2"))
    assert effects == [
        Say(("welcome",)),
        ForgetKeys(),
        Say(("choose",), interruptible=True),
        Report("menu", "2"),
        ForgetKeys(),
        Enqueue(QueueRequest("billing", announce=False, callback_after_s=60, callback_key="5")),
    ]


def test_a_silent_caller_hears_the_menu_again_then_goes_the_default_way() -> None:
    effects = run(ivr(WATER), presses())
    assert effects.count(Say(("choose",), interruptible=True)) == 2  # retries: 1
    assert effects.count(NextKey(5)) == 2
    assert effects[-1] == Enqueue(QueueRequest("emergencies", priority=50))
    assert not any(isinstance(e, Report) for e in effects)


def test_a_wrong_key_counts_as_a_try() -> None:
    effects = run(ivr(WATER), presses("9", "1"))
    assert effects.count(Say(("choose",), interruptible=True)) == 2
    assert Report("menu", "1") in effects


def test_digits_are_collected_up_to_the_terminator_into_a_variable() -> None:
    account = flow(
        ask={"collect": "account", "into": "account", "max_digits": 8, "next": "queue"},
        queue={"queue": "billing"},
    )
    effects = run(ivr(account), presses("4", "2", "7", "#"))
    assert Remember({"account": "427"}) in effects
    assert Report("ask", "427") in effects
    short = run(ivr(account), presses("4", None))  # the caller stops typing: what came so far
    assert Remember({"account": "4"}) in short
    assert short[-1] == Enqueue(QueueRequest("billing"))


def test_a_known_vip_caller_goes_the_vip_way_with_their_card_in_the_variables() -> None:
    vip = flow(
        who={"lookup": "caller", "next": "normal", "vip": "priority"},
        normal={"queue": "general"},
        priority={"queue": "general", "priority": 90},
    )
    card = ContactCard(contact_id="c-1", name="Ada", vip=True, personal_agent_id="agent-7")
    effects = run(ivr(vip), presses(card=card))
    known = {"contact_id": "c-1", "contact_name": "Ada", "vip": "yes", "personal_agent_id": "agent-7"}
    assert Remember(known) in effects
    assert effects[-1] == Enqueue(QueueRequest("general", priority=90))
    unknown = run(ivr(vip), presses())
    assert not any(isinstance(e, Remember) for e in unknown)
    assert unknown[-1] == Enqueue(QueueRequest("general"))


def test_transfer_and_hangup_steps_hand_the_call_on() -> None:
    assert run(ivr(flow(out={"transfer": "+3120"})), presses())[-1] == DialOut("+3120")
    assert run(ivr(flow(bye={"hangup": "closed"})), presses()) == [HangUp("closed")]
    assert run(ivr(flow(hello={"play": "welcome"})), presses())[-1] == HangUp()  # nowhere to go


def test_a_flow_that_loops_ends() -> None:
    looping = flow(a={"menu": "choose", "options": {"1": "a"}, "retries": 0, "otherwise": "a"})
    effects = run(ivr(looping), presses())
    assert effects[-1] == HangUp()
    assert effects.count(Say(("choose",), interruptible=True)) == MAX_STEPS


@pytest.mark.parametrize("key", [None, *"0123456789*#"])
def test_every_key_leads_the_demo_callers_to_a_queue(key: str | None) -> None:
    plan = load(DEMO_CONFIG)
    for number in ("311", "312"):
        found = plan.flow_for(number)
        assert found is not None
        last = run(ivr(found), presses(key, *"1234#"))[-1]  # an account number when asked
        assert isinstance(last, Enqueue), (number, key, last)


def test_a_waiting_caller_hears_position_wait_and_the_callback_offer_then_leaves_a_number() -> None:
    wanted = QueueRequest("billing", callback_after_s=60, callback_key="5")
    effects = run(waiting(wanted, 3, 240, may_call_back=True), presses(None, "2", "5"))
    assert effects == [
        Say(("position", "digit-3", "in-line", "wait", "digit-4", "minutes")),
        Say(("callback-offer", "digit-5"), interruptible=True),
        HoldMusic("hold"),
        NextKey(None),  # "2" means nothing here
        NextKey(None),
        LeaveNumber(wanted, replaces=True),
        HangUp("callback-confirmed", 200),
    ]


def test_a_callback_queue_manager_refuses_keeps_the_caller_waiting() -> None:
    wanted = QueueRequest("billing", announce=False, callback_after_s=0)
    effects = run(waiting(wanted, 1, None, may_call_back=True), presses("1", "1", callback=False))
    assert effects.count(LeaveNumber(wanted, replaces=True)) == 2
    assert not any(isinstance(e, HangUp) for e in effects)


@pytest.mark.parametrize(
    ("after_s", "expected_wait_s", "may_call_back"),
    [(None, 600, True), (300, 120, True), (0, 600, False)],
    ids=["not offered by the flow", "wait shorter than the offer's", "anonymous caller"],
)
def test_no_callback_offer(after_s: float | None, expected_wait_s: float, may_call_back: bool) -> None:
    wanted = QueueRequest("billing", announce=False, callback_after_s=after_s)
    effects = run(waiting(wanted, 1, expected_wait_s, may_call_back=may_call_back), presses("1"))
    assert effects == [HoldMusic("hold")]
