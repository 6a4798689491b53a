"""The script of a caller waiting in a queue: the position and expected wait announced, the callback
offer (when the wait is long enough and the caller id can be called back), hold music, and the key
that leaves a number instead of waiting. The session runs it only while the call is queued: once an
agent rings or the caller leaves, it is closed wherever it is."""

from __future__ import annotations

from callisto_call_manager.calls import QueueRequest
from callisto_call_manager.effects import HangUp, HoldMusic, Script, leave_number, next_key, say
from callisto_call_manager.prompts import announcement


def waiting(
    wanted: QueueRequest, position: int, expected_wait_s: float | None, *, may_call_back: bool
) -> Script:
    """``may_call_back``: the caller's number is one a callback can reach."""
    offer = (
        wanted.callback_after_s is not None
        and may_call_back
        and (expected_wait_s is None or expected_wait_s >= wanted.callback_after_s)
    )
    if wanted.announce:
        yield from say(*announcement(position, expected_wait_s))
    key = None
    if offer:
        key = yield from say("callback-offer", f"digit-{wanted.callback_key}", interruptible=True)
    yield HoldMusic(wanted.hold_music)
    while offer:
        key = key or (yield from next_key(None))
        if key == wanted.callback_key and (yield from leave_number(wanted, replaces=True)):
            yield HangUp("callback-confirmed", 200)
            return
        key = None
