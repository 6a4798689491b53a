"""Help requests: an operator asks for a supervisor. One state machine (``TRANSITIONS``; the state
changes in ``_move`` only), escalation by deadline, every change an event. Pure: operations take the
time and leave ``HelpRequestChanged`` events in ``effects`` and changed ids in ``dirty``.

    open -> accepted -> closed
    open -> cancelled | closed          accepted -> cancelled
    open, past its deadline: escalated one level (still open, a new deadline)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from callisto_protocol import new_id
from callisto_protocol.help import HelpRequest, HelpRequestChanged, HelpState
from callisto_queue_manager.errors import HelpTaken, InvalidTransition, UnknownHelpRequest

H = HelpState
TRANSITIONS: dict[HelpState, frozenset[HelpState]] = {
    H.OPEN: frozenset({H.ACCEPTED, H.CANCELLED, H.CLOSED}),
    H.ACCEPTED: frozenset({H.CANCELLED, H.CLOSED}),
    H.CANCELLED: frozenset(),
    H.CLOSED: frozenset(),
}
ENDED = frozenset({H.CANCELLED, H.CLOSED})


def wall(at: float | None) -> datetime | None:
    return datetime.fromtimestamp(at, UTC) if at is not None else None


@dataclass
class Help:
    request_id: str
    agent_id: str
    reason: str
    raised_at: float
    call_id: str | None = None
    state: HelpState = H.OPEN
    level: int = 1
    deadline: float | None = None
    supervisor_id: str | None = None
    accepted_at: float | None = None
    ended_at: float | None = None
    note: str = ""

    def view(self) -> HelpRequest:
        return HelpRequest(
            request_id=self.request_id,
            agent_id=self.agent_id,
            state=self.state,
            reason=self.reason,
            call_id=self.call_id,
            level=self.level,
            raised_at=datetime.fromtimestamp(self.raised_at, UTC),
            deadline=wall(self.deadline),
            supervisor_id=self.supervisor_id,
            accepted_at=wall(self.accepted_at),
            ended_at=wall(self.ended_at),
            note=self.note,
        )

    def record(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_record(cls, text: str) -> Help:
        data: dict[str, Any] = json.loads(text)
        data["state"] = HelpState(data["state"])
        return cls(**data)


class HelpBoard:
    def __init__(self, response_s: float = 60.0, max_level: int = 3) -> None:
        self.response_s = response_s
        self.max_level = max_level
        self.requests: dict[str, Help] = {}  # open and accepted ones; ended ones leave (events keep them)
        self.effects: list[HelpRequestChanged] = []
        self.dirty: set[str] = set()

    def get(self, request_id: str) -> Help:
        found = self.requests.get(request_id)
        if found is None:
            raise UnknownHelpRequest(f"no open help request {request_id!r}", {"request_id": request_id})
        return found

    def of_agent(self, agent_id: str) -> Help | None:
        return next((h for h in self.requests.values() if h.agent_id == agent_id), None)

    def raise_help(self, agent_id: str, reason: str, call_id: str | None, now: float) -> Help:
        """An operator asks for help; asking again while a request is live returns that one."""
        live = self.of_agent(agent_id)
        if live is not None:
            return live
        found = Help(new_id(), agent_id, reason, now, call_id, deadline=now + self.response_s)
        self.requests[found.request_id] = found
        self._changed(found, "raised")
        return found

    def accept(self, request_id: str, supervisor_id: str, now: float) -> Help:
        found = self.get(request_id)
        if found.state is H.ACCEPTED:
            if found.supervisor_id == supervisor_id:
                return found  # a repeat
            raise HelpTaken(
                f"{found.supervisor_id} took help request {request_id}",
                {"request_id": request_id, "supervisor_id": found.supervisor_id or ""},
            )
        found.supervisor_id, found.accepted_at = supervisor_id, now
        self._move(found, H.ACCEPTED, now, "accepted")
        return found

    def cancel(self, request_id: str, agent_id: str, now: float) -> Help:
        found = self.get(request_id)
        if found.agent_id != agent_id:
            raise InvalidTransition(
                "only the operator who raised a request cancels it", {"request_id": request_id}
            )
        self._move(found, H.CANCELLED, now, "cancelled")
        return found

    def close(self, request_id: str, note: str, now: float) -> Help:
        found = self.get(request_id)
        found.note = note
        self._move(found, H.CLOSED, now, "closed")
        return found

    def tick(self, now: float) -> None:
        """Escalate open requests past their deadline (up to ``max_level``, then they just wait)."""
        for found in list(self.requests.values()):
            if found.state is H.OPEN and found.deadline is not None and found.deadline <= now:
                found.level += 1
                found.deadline = now + self.response_s if found.level < self.max_level else None
                self._changed(found, "escalated")

    def restore(self, requests: list[Help]) -> None:
        self.requests = {h.request_id: h for h in requests if h.state not in ENDED}

    def take_effects(self) -> list[HelpRequestChanged]:
        effects, self.effects = self.effects, []
        return effects

    def _move(self, found: Help, state: HelpState, now: float, step: str) -> None:
        """The only place a help request's state changes."""
        if state not in TRANSITIONS[found.state]:
            raise InvalidTransition(
                f"help request {found.request_id} is {found.state.value}", {"request_id": found.request_id}
            )
        found.state = state
        if state in ENDED:
            found.ended_at, found.deadline = now, None
            del self.requests[found.request_id]
        elif state is H.ACCEPTED:
            found.deadline = None
        self._changed(found, step)

    def _changed(self, found: Help, step: str) -> None:
        self.dirty.add(found.request_id)
        self.effects.append(HelpRequestChanged(agent_id=found.agent_id, step=step, request=found.view()))
