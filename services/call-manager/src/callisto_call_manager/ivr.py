"""IVR flows as data (see dialplan.py): the script that walks a caller through the steps. It yields
effects (effects.py) and knows nothing of SIP or rtpengine; session.py carries them out."""

from __future__ import annotations

from collections.abc import Generator

from callisto_call_manager.calls import QueueRequest
from callisto_call_manager.dialplan import Collect, Flow, Hangup, Lookup, Menu, Play, Queue, Transfer
from callisto_call_manager.effects import (
    DialOut,
    Effect,
    Enqueue,
    ForgetKeys,
    HangUp,
    Outcome,
    Remember,
    Report,
    Script,
    identify,
    next_key,
    say,
)

MAX_STEPS = 200  # a flow that loops (menu -> menu ...) ends instead of running forever
Steps = Generator[Effect, Outcome, str | None]  # a step's effects, then the name of the next step


def ivr(flow: Flow) -> Script:
    name: str | None = flow.start
    for _ in range(MAX_STEPS):
        if name is None:
            break
        step = flow.steps[name]
        if isinstance(step, Queue):
            yield Enqueue(queue_request(step))
            return
        if isinstance(step, Transfer):
            yield DialOut(step.transfer)
            return
        if isinstance(step, Hangup):
            yield HangUp(step.hangup)
            return
        if isinstance(step, Play):
            yield from say(step.play)
            name = step.next
        elif isinstance(step, Menu):
            name = yield from _menu(name, step)
        elif isinstance(step, Collect):
            name = yield from _collect(name, step)
        else:
            name = yield from _lookup(step)
        yield ForgetKeys()  # keys pressed during a plain prompt do not leak into the next menu
    yield HangUp()


def queue_request(step: Queue) -> QueueRequest:
    offer = step.callback
    return QueueRequest(
        step.queue, step.priority, dict(step.skills), step.announce, step.hold_music,
        offer.after_s if offer else None, offer.key if offer else "1",
    )  # fmt: skip


def _menu(name: str, step: Menu) -> Steps:
    for _ in range(step.retries + 1):
        key = (yield from say(step.menu, interruptible=True)) or (yield from next_key(step.timeout_s))
        if key in step.options:
            yield Report(name, key)
            return step.options[key]
    return step.otherwise


def _collect(name: str, step: Collect) -> Steps:
    digits = (yield from say(step.collect, interruptible=True)) or ""
    while len(digits) < step.max_digits and not (step.terminator and digits.endswith(step.terminator)):
        key = yield from next_key(step.timeout_s)
        if key is None:
            break
        digits += key
    digits = digits.removesuffix(step.terminator) if step.terminator else digits
    yield Remember({step.into: digits})
    yield Report(name, digits)
    return step.next


def _lookup(step: Lookup) -> Steps:
    card = yield from identify(step.timeout_s)
    if card is None:
        return step.next
    yield Remember({
        "contact_id": card.contact_id, "contact_name": card.name, "vip": "yes" if card.vip else "no",
        **({"personal_agent_id": card.personal_agent_id} if card.personal_agent_id else {}),
    })  # fmt: skip
    return step.vip if card.vip and step.vip else step.next
