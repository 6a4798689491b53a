"""What a call's logic asks for, as data: the IVR and the queue wait are scripts (generators) that yield
effects and are sent back each effect's outcome. A per-call session (session.py) carries the effects
out against SIP, rtpengine and the bus; unit tests drive the scripts with outcomes of their own.

The small ``say``/``next_key``/... helpers yield one effect and narrow its outcome to the type that
effect produces, so a script reads ``key = yield from say("menu", interruptible=True)``.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field

from callisto_call_manager.calls import QueueRequest
from callisto_protocol.contacts import ContactCard

Outcome = str | bool | ContactCard | None


@dataclass(frozen=True)
class Say:
    """Play prompts one after another; ``interruptible``: a key stops them and is the outcome."""

    prompts: tuple[str, ...]
    interruptible: bool = False


@dataclass(frozen=True)
class NextKey:
    """The next key the caller presses (None after ``timeout_s``; None as timeout waits for ever)."""

    timeout_s: float | None


@dataclass(frozen=True)
class ForgetKeys:
    """Drop keys pressed so far (during a plain prompt they must not answer the next menu)."""


@dataclass(frozen=True)
class Remember:
    """Set call variables (saved with the call)."""

    variables: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Report:
    """Tell the bus what the caller entered at an IVR step."""

    step: str
    keys: str


@dataclass(frozen=True)
class Identify:
    """Who the caller is (helpdesk's contact card by caller id), or None within ``timeout_s``."""

    timeout_s: float


@dataclass(frozen=True)
class HoldMusic:
    prompt: str | None


@dataclass(frozen=True)
class LeaveNumber:
    """A callback to the caller's number instead of (``replaces``) or after the call; True when
    queue-manager took it."""

    request: QueueRequest
    replaces: bool


@dataclass(frozen=True)
class Enqueue:
    request: QueueRequest


@dataclass(frozen=True)
class DialOut:
    number: str


@dataclass(frozen=True)
class HangUp:
    """Say ``prompt`` (when given) and end the call, with ``status`` toward the caller."""

    prompt: str | None = None
    status: int | None = None


Effect = (
    Say | NextKey | ForgetKeys | Remember | Report | Identify | HoldMusic | LeaveNumber | Enqueue | DialOut
    | HangUp
)  # fmt: skip
FINAL = (Enqueue, DialOut, HangUp)  # the call leaves the script's hands
Script = Generator[Effect, Outcome, None]


def say(*prompts: str, interruptible: bool = False) -> Generator[Effect, Outcome, str | None]:
    key = yield Say(prompts, interruptible)
    return key if isinstance(key, str) else None


def next_key(timeout_s: float | None) -> Generator[Effect, Outcome, str | None]:
    key = yield NextKey(timeout_s)
    return key if isinstance(key, str) else None


def identify(timeout_s: float) -> Generator[Effect, Outcome, ContactCard | None]:
    card = yield Identify(timeout_s)
    return card if isinstance(card, ContactCard) else None


def leave_number(request: QueueRequest, *, replaces: bool) -> Generator[Effect, Outcome, bool]:
    taken = yield LeaveNumber(request, replaces)
    return taken is True
