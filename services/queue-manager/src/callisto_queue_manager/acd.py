"""The ACD: agents, calls waiting in queues, and every routing decision. Pure and single-threaded:
each operation takes the time (epoch seconds) and leaves what must be done outside — offers to ring,
offers to cancel, events to publish — in ``effects``; the service executes them and persists the
records named in ``dirty``. Agent state changes in one place (``_set_state``), against one table.

Order of service: within a queue, by ``order`` = time entered - priority x ``priority_step_s`` (so a
caller of priority p is served as if they had arrived p steps earlier: aging, since a low-priority
caller's wait keeps growing until it beats any newcomer), then by arrival. An agent serving several
queues takes the call with the longest weighted wait: now - order + queue weight x step, ties to the
earliest arrival, then the call id.
"""

from __future__ import annotations

import heapq
import os
import random
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sortedcontainers import SortedList

from callisto_protocol import new_id
from callisto_protocol.agents import AgentState, AgentStateChanged
from callisto_protocol.help import HelpRequestChanged
from callisto_protocol.queues import (
    CALLBACK_NUMBER_PATTERN,
    AgentRequest,
    CallDisposed,
    ConnectResult,
    QueueCallEvent,
    QueueCallKind,
)
from callisto_queue_manager.assistance import Help, HelpBoard
from callisto_queue_manager.errors import (
    CallAlreadyQueued,
    InvalidCallback,
    InvalidTransition,
    OverflowCycle,
    QueueClosed,
    QueueEmpty,
    QueueFull,
    QueueInUse,
    UnknownAgent,
    UnknownCall,
    UnknownCode,
    UnknownQueue,
)
from callisto_queue_manager.estimate import HandleTime, erlang_c_wait, expected_wait
from callisto_queue_manager.model import (
    Agent,
    AgentProfile,
    Call,
    Callback,
    CallStatus,
    QueueConfig,
    check_skills,
    qualifies,
)
from callisto_queue_manager.routing import RoundRobin, choose

S = AgentState
TRANSITIONS: dict[AgentState, frozenset[AgentState]] = {
    S.LOGGED_OUT: frozenset({S.NOT_READY}),
    S.NOT_READY: frozenset({S.READY, S.NOT_READY, S.LOGGED_OUT}),
    S.READY: frozenset({S.RESERVED, S.NOT_READY, S.LOGGED_OUT}),
    S.RESERVED: frozenset({S.ON_CALL, S.READY, S.NOT_READY, S.LOGGED_OUT}),
    S.ON_CALL: frozenset({S.WRAP_UP}),
    S.WRAP_UP: frozenset({S.READY, S.NOT_READY, S.LOGGED_OUT}),
}
STAFFED = frozenset({S.READY, S.RESERVED, S.ON_CALL, S.WRAP_UP})
LOGGED_IN = STAFFED | {S.NOT_READY}
MAX_OVERFLOWS = 8  # queues one caller may be moved through; past that the caller leaves without a target
MAX_TIMERS_PER_TICK = 10_000  # the work of one tick is bounded: what is left runs at the next
OUTCOME_MARGIN_S = 5.0  # an offer without outcome this long after its ring timeout counts as missed
SCAN_LIMIT = 64  # waiting calls looked at per queue when an agent becomes free
ARRIVAL_WINDOW_S = 900.0
MISSED = "missed"
PHONE_OFFLINE = "phone offline"
CALLBACK_NUMBER = re.compile(CALLBACK_NUMBER_PATTERN)
Entry = tuple[float, int, str]


@dataclass(frozen=True)
class Offer:
    """Ring the agent for the call; for a callback (``number`` set) call-manager originates the try
    ``attempt_id``: the agent first, then the number."""

    call_id: str
    agent_id: str
    offer_id: str
    ring_timeout_s: float
    number: str | None = None
    attempt_id: str | None = None


@dataclass(frozen=True)
class CancelOffer:
    call_id: str
    agent_id: str
    offer_id: str


Effect = Offer | CancelOffer | AgentStateChanged | QueueCallEvent | HelpRequestChanged | CallDisposed


def wall(now: float) -> datetime:
    return datetime.fromtimestamp(now, UTC)


class Acd:
    def __init__(
        self,
        queues: Iterable[QueueConfig] = (),
        agents: Iterable[AgentProfile] = (),
        *,
        seed: int | None = None,
    ) -> None:
        self.queues: dict[str, QueueConfig] = {}
        self.agents: dict[str, Agent] = {}
        self.calls: dict[str, Call] = {}
        self.attempts: dict[str, str] = {}  # call-manager's call of a callback's current try -> callback
        self.eligible: dict[str, set[str]] = {}  # queue → qualified agents
        self.agent_queues: dict[str, list[str]] = {}  # agent → queues they qualify for
        self.ready: dict[str, set[str]] = {}  # queue → qualified agents who are ready
        self.waiting: dict[str, SortedList[Entry]] = {}  # queue → (order, seq, call id) of waiting calls
        self.handle: dict[str, HandleTime] = {}
        self.arrivals: dict[str, deque[float]] = {}
        self.effects: list[Effect] = []
        self.help = HelpBoard()
        self.reasons: frozenset[str] | None = None  # the not-ready reasons people may give (None: any)
        self._asker: str | None = None  # who asked for the request being carried out
        self.dirty_agents: set[str] = set()
        self.dirty_calls: set[str] = set()  # changed or removed (absent from ``calls``)
        self._timers: list[tuple[float, int, str, str]] = []  # (due, n, kind, id)
        self._timer_n = 0
        self._seq = 0
        self._round_robin = RoundRobin()
        self._rng = random.Random(seed)
        for queue in queues:
            self.set_queue(queue)
        for profile in agents:
            self.set_agent(profile)

    def restore(self, agents: Iterable[Agent], calls: Iterable[Call], now: float) -> None:
        """Take back the live records a previous instance left (after ``set_queue``/``set_agent``):
        indexes and timers are rebuilt; calls of queues that no longer exist are dropped."""
        for agent in agents:
            if agent.id in self.agents:
                agent.profile = self.agents[agent.id].profile
                self.agents[agent.id] = agent
                for queue_id in self.agent_queues[agent.id]:
                    if agent.state is S.READY:
                        self.ready[queue_id].add(agent.id)
                if agent.offer_deadline is not None:
                    self._timer(agent.offer_deadline, "offer", agent.id)
                if agent.wrap_up_until is not None:
                    self._timer(agent.wrap_up_until, "wrap", agent.id)
        for call in calls:
            queue = self.queues.get(call.queue_id)
            if queue is None:
                self.dirty_calls.add(call.call_id)
                continue
            self.calls[call.call_id] = call
            self._seq = max(self._seq, call.seq)
            if call.status is CallStatus.WAITING:
                self.waiting[queue.id].add((call.order, call.seq, call.call_id))
            if call.callback is not None:
                if call.callback.attempt_id is not None:
                    self.attempts[call.callback.attempt_id] = call.call_id
                for due in (call.callback.due, call.callback.not_after):
                    if due is not None:
                        self._timer(due, "call", call.call_id)
                continue
            for due in (queue.max_wait_s, queue.overflow_after_s, queue.personal_wait_s):
                if due is not None:
                    self._timer(call.entered_at + due, "call", call.call_id)
        self.tick(now)

    def take_effects(self) -> list[Effect]:
        effects: list[Effect] = [*self.effects, *self.help.take_effects()]
        self.effects = []
        return effects

    # configuration ------------------------------------------------------------------------------
    def check_overflow(self, queue: QueueConfig) -> None:
        """Refuse a queue whose overflow targets, followed through the other queues, come back to it."""
        path = [queue.id]
        target = queue.overflow_target
        while target is not None and target.startswith("queue:"):
            next_id = target[6:]
            if next_id in path:
                raise OverflowCycle(
                    f"overflow from queue {queue.id!r} would come back: {' -> '.join([*path, next_id])}",
                    {"queue_id": queue.id, "cycle": [*path, next_id]},
                )
            path.append(next_id)
            following = self.queues.get(next_id)
            target = following.overflow_target if following is not None else None

    def set_queue(self, queue: QueueConfig, now: float = 0.0) -> None:
        self.check_overflow(queue)
        self.queues[queue.id] = queue
        self.waiting.setdefault(queue.id, SortedList())
        self.handle.setdefault(
            queue.id, HandleTime(queue.default_handle_s)
        ).default_s = queue.default_handle_s
        self.arrivals.setdefault(queue.id, deque())
        before = self.eligible.get(queue.id, set())
        self.eligible[queue.id] = {
            a.id for a in self.agents.values() if qualifies(a.profile.skills, queue.skills)
        }
        self.ready[queue.id] = {a for a in self.eligible[queue.id] if self.agents[a].state is S.READY}
        for agent_id in before ^ self.eligible[queue.id]:  # only those who joined or left the queue
            self._index_agent(agent_id)
        for call in self._waiting_calls(queue.id):
            self._route_call(call, now)

    def check_removable(self, queue_id: str) -> None:
        self._queue(queue_id)
        if any(c.queue_id == queue_id for c in self.calls.values()):
            raise QueueInUse(f"queue {queue_id!r} has calls", {"queue_id": queue_id})

    def remove_queue(self, queue_id: str) -> None:
        self.check_removable(queue_id)
        members = self.eligible[queue_id]
        for index in (self.queues, self.waiting, self.handle, self.arrivals, self.eligible, self.ready):
            del index[queue_id]
        for agent_id in members:
            self._index_agent(agent_id)

    def set_agent(self, profile: AgentProfile, now: float = 0.0) -> Agent:
        """Add an agent or change their skills (their queues follow at once)."""
        agent = self.agents.get(profile.id)
        if agent is None:
            agent = self.agents[profile.id] = Agent(profile, since=now)
        agent.profile = profile
        for queue_id, queue in self.queues.items():
            members = self.eligible[queue_id]
            if qualifies(profile.skills, queue.skills):
                members.add(profile.id)
            else:
                members.discard(profile.id)
                self.ready[queue_id].discard(profile.id)
        self._index_agent(profile.id)
        self.dirty_agents.add(profile.id)
        self._stop_waiting_for(profile.id, now)
        if agent.state is S.READY:
            for queue_id in self.agent_queues[profile.id]:
                self.ready[queue_id].add(profile.id)
            self._route_agent(agent, now)
        return agent

    def _index_agent(self, agent_id: str) -> None:
        self.agent_queues[agent_id] = sorted(q for q, members in self.eligible.items() if agent_id in members)

    # agents -------------------------------------------------------------------------------------
    def agent(self, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(f"no agent {agent_id!r}", {"agent_id": agent_id})
        return agent

    def request(
        self, agent_id: str, request: AgentRequest, reason: str | None, now: float, by: str | None = None
    ) -> Agent:
        """What an agent (or a supervisor for them: ``by`` names who) asks for. Idempotent: asking
        for the state one is in changes nothing. A not-ready reason is one of ``reasons``."""
        agent = self.agent(agent_id)
        known = self.reasons
        if request is AgentRequest.NOT_READY and reason and known is not None and reason not in known:
            raise UnknownCode(
                f"{reason!r} is not a not-ready reason", {"reason": reason, "reasons": sorted(known)}
            )
        self._asker = by
        try:
            return self._request(agent, request, reason, now)
        finally:
            self._asker = None

    def _request(self, agent: Agent, request: AgentRequest, reason: str | None, now: float) -> Agent:
        state = agent.state
        if agent.phone is False and request in (AgentRequest.LOGIN, AgentRequest.READY):
            raise InvalidTransition(
                "the agent's softphone is not registered: register it first", self._details(agent, request)
            )
        if request is AgentRequest.LOGIN:
            if state is S.LOGGED_OUT:
                self._set_state(agent, S.NOT_READY, now, reason or "login")
        elif state is S.LOGGED_OUT:
            if request is not AgentRequest.LOGOUT:
                raise InvalidTransition(
                    "the agent is logged out: log in first", self._details(agent, request)
                )
        elif request is AgentRequest.READY:
            if state in (S.NOT_READY, S.WRAP_UP):
                self._become_free(agent, now)
            elif state is S.ON_CALL:
                agent.after_call = None  # ready again after this call's wrap-up
        elif request is AgentRequest.NOT_READY:
            reason = reason or "not ready"
            if state is S.ON_CALL:
                agent.after_call = reason  # takes effect after the call
            elif state is S.RESERVED:
                self._release_offer(agent, now, missed=False, then=(S.NOT_READY, reason))
            elif not (state is S.NOT_READY and agent.reason == reason):
                self._set_state(agent, S.NOT_READY, now, reason)
        elif request is AgentRequest.LOGOUT:
            if state is S.ON_CALL:
                raise InvalidTransition("the agent is on a call", self._details(agent, request))
            if state is S.RESERVED:
                self._release_offer(agent, now, missed=False, then=(S.LOGGED_OUT, reason))
            else:
                self._set_state(agent, S.LOGGED_OUT, now, reason)
            self._leave_empty_queues(agent, now)
            self._stop_waiting_for(agent.id, now)
        return agent

    def phone_changed(self, agent_id: str, registered: bool, now: float) -> bool:
        """call-manager says the agent's softphone registered or went away: a ready agent without a
        phone is made not ready (``phone offline``) so that no call is offered to nobody."""
        agent = self.agents.get(agent_id)
        if agent is None:
            return False
        agent.phone = registered
        self.dirty_agents.add(agent_id)
        if not registered and agent.state is S.READY:
            self._set_state(agent, S.NOT_READY, now, PHONE_OFFLINE)
        return True

    def _stop_waiting_for(self, agent_id: str, now: float) -> None:
        """Calls kept for their personal agent go to anyone once that agent cannot take them."""
        for call in [c for c in self.calls.values() if c.personal_agent_id == agent_id]:
            self._route_call(call, now)

    @staticmethod
    def _details(agent: Agent, request: AgentRequest) -> dict[str, str]:
        return {"agent_id": agent.id, "state": agent.state.value, "request": request.value}

    def _set_state(
        self,
        agent: Agent,
        state: AgentState,
        now: float,
        reason: str | None = None,
        call_id: str | None = None,
    ) -> None:
        """The only place an agent's state changes."""
        previous = agent.state
        if state not in TRANSITIONS[previous]:
            raise InvalidTransition(
                f"{previous.value} → {state.value} is not a transition", {"agent_id": agent.id}
            )
        agent.state, agent.reason, agent.since, agent.seq = state, reason, now, agent.seq + 1
        agent.call_id = call_id if state in (S.RESERVED, S.ON_CALL, S.WRAP_UP) else None
        if state is not S.RESERVED:
            agent.offer_id = agent.offer_deadline = None
        if state is not S.WRAP_UP:
            agent.wrap_up_until = None
        if state is S.LOGGED_OUT:
            agent.after_call = None
        for queue_id in self.agent_queues[agent.id]:
            if state is S.READY:
                self.ready[queue_id].add(agent.id)
            else:
                self.ready[queue_id].discard(agent.id)
        self.dirty_agents.add(agent.id)
        self.effects.append(
            AgentStateChanged(
                agent_id=agent.id,
                seq=agent.seq,
                state=state,
                previous=previous,
                since=wall(now),
                name=agent.profile.name,
                reason=reason,
                call_id=agent.call_id,
                queues=self.agent_queues[agent.id],
                until=wall(agent.wrap_up_until) if state is S.WRAP_UP and agent.wrap_up_until else None,
                by=self._asker,
            )
        )

    def _become_free(self, agent: Agent, now: float) -> None:
        """Ready (or the not-ready asked for during the call), then look for a waiting call."""
        if agent.after_call is not None:
            reason, agent.after_call = agent.after_call, None
            self._set_state(agent, S.NOT_READY, now, reason)
            return
        agent.idle_since = now
        self._set_state(agent, S.READY, now)
        self._route_agent(agent, now)

    # calls --------------------------------------------------------------------------------------
    def _queue(self, queue_id: str) -> QueueConfig:
        queue = self.queues.get(queue_id)
        if queue is None:
            raise UnknownQueue(f"no queue {queue_id!r}", {"queue_id": queue_id})
        return queue

    def call(self, call_id: str) -> Call:
        call = self.calls.get(self.attempts.get(call_id, call_id))
        if call is None:
            raise UnknownCall(f"no call {call_id!r} in any queue", {"call_id": call_id})
        return call

    def enqueue(
        self,
        call_id: str,
        queue_id: str,
        now: float,
        *,
        caller: str = "",
        priority: int = 0,
        skills: dict[str, int] | None = None,
        personal_agent_id: str | None = None,
    ) -> Call:
        queue = self._queue(queue_id)
        known = self.calls.get(call_id)
        if known is not None and known.status is CallStatus.CONNECTED:
            self.call_ended(call_id, now)  # transferred to a queue: the agent's part of the call is over
            known = None
        if known is not None:
            if known.queue_id == queue_id:
                return known  # a repeated command: the call keeps its place
            raise CallAlreadyQueued(
                f"call {call_id!r} is in queue {known.queue_id!r}",
                {"call_id": call_id, "queue_id": known.queue_id},
            )
        extra = check_skills(dict(skills or {}))
        overflow = {"queue_id": queue_id, "overflow_target": queue.overflow_target}
        if queue.hours is not None and not queue.hours.is_open(wall(now)):
            raise QueueClosed(f"queue {queue_id!r} is closed now", overflow)
        if queue.max_length is not None and len(self.waiting[queue_id]) >= queue.max_length:
            raise QueueFull(f"queue {queue_id!r} has {queue.max_length} callers waiting", overflow)
        if not queue.join_empty and not self._logged_in(queue_id):
            raise QueueEmpty(f"no agent of queue {queue_id!r} is logged in", overflow)
        self._seq += 1
        call = Call(
            call_id=call_id, queue_id=queue_id, caller=caller, priority=priority, skills=extra,
            personal_agent_id=personal_agent_id, entered_at=now, first_entered_at=now, seq=self._seq,
        )  # fmt: skip
        self._enter(call, queue, now)
        self.arrivals[queue_id].append(now)
        self._event(QueueCallKind.ENQUEUED, call, now)
        self._route_call(call, now)
        return call

    def _enter(self, call: Call, queue: QueueConfig, now: float) -> None:
        call.queue_id, call.entered_at = queue.id, now
        call.order = now - call.priority * queue.priority_step_s
        call.status = CallStatus.WAITING
        self.calls[call.call_id] = call
        self.waiting[queue.id].add((call.order, call.seq, call.call_id))
        self.dirty_calls.add(call.call_id)
        if queue.max_wait_s is not None:
            self._timer(call.first_entered_at + queue.max_wait_s, "call", call.call_id)
        if queue.overflow_after_s is not None:
            self._timer(now + queue.overflow_after_s, "call", call.call_id)
        if call.personal_agent_id is not None and queue.personal_wait_s > 0:
            self._timer(now + queue.personal_wait_s, "call", call.call_id)

    def dequeue(self, call_id: str, reason: str, now: float) -> Call:
        """The caller left before being connected (abandoned)."""
        call = self.call(call_id)
        if call.status is CallStatus.CONNECTED:
            raise InvalidTransition("the call is connected already", {"call_id": call_id})
        self._cancel_offers(call, now)
        self._remove(call)
        self._event(QueueCallKind.ABANDONED, call, now, reason=reason)
        return call

    def _remove(self, call: Call) -> None:
        if call.status is CallStatus.WAITING:
            self.waiting[call.queue_id].discard((call.order, call.seq, call.call_id))
        if call.callback is not None and call.callback.attempt_id is not None:
            self.attempts.pop(call.callback.attempt_id, None)
        self.calls.pop(call.call_id, None)
        self.dirty_calls.add(call.call_id)

    @staticmethod
    def _switch_id(call: Call) -> str:
        """The call's id at call-manager (a callback's current try)."""
        return call.callback.attempt_id or call.call_id if call.callback is not None else call.call_id

    def _cancel_offers(self, call: Call, now: float) -> None:
        for agent_id in sorted(call.offered_to):
            agent = self.agents[agent_id]
            self.effects.append(CancelOffer(self._switch_id(call), agent_id, agent.offer_id or ""))
            self._become_free(agent, now)
        call.offered_to.clear()

    # routing ------------------------------------------------------------------------------------
    def _may_take(self, agent: Agent, call: Call, now: float) -> bool:
        if call.skills and not qualifies(agent.profile.skills, call.skills):
            return False
        personal = call.personal_agent_id
        if personal is None or personal == agent.id:
            return True
        # the caller's own agent has the call first, while they are logged in and the wait lasts
        queue = self.queues[call.queue_id]
        mine = self.agents.get(personal)
        return (
            mine is None
            or mine.state not in LOGGED_IN
            or personal not in self.eligible[call.queue_id]
            or now >= call.entered_at + queue.personal_wait_s
        )

    def _route_call(self, call: Call, now: float) -> None:
        if call.status is not CallStatus.WAITING:
            return
        queue = self.queues[call.queue_id]
        candidates = [
            agent
            for agent_id in self.ready[queue.id]
            if self._may_take(agent := self.agents[agent_id], call, now)
        ]
        if candidates:
            chosen = choose(queue, candidates, call.skills, self._round_robin, self._rng)
            self._offer(call, chosen[:1] if call.callback is not None else chosen, now)

    def _route_agent(self, agent: Agent, now: float) -> None:
        if agent.state is not S.READY:
            return
        best: tuple[float, float, str] | None = None
        chosen: Call | None = None
        for queue_id in self.agent_queues[agent.id]:
            queue = self.queues[queue_id]
            for looked, (order, _, call_id) in enumerate(self.waiting[queue_id]):
                if looked >= SCAN_LIMIT:
                    break
                call = self.calls[call_id]
                if self._may_take(agent, call, now):
                    score = (
                        -(now - order + queue.weight * queue.priority_step_s),
                        call.first_entered_at,
                        call_id,
                    )
                    if best is None or score < best:
                        best, chosen = score, call
                    break
        if chosen is not None:
            self._offer(chosen, [agent], now)

    def _offer(self, call: Call, agents: list[Agent], now: float) -> None:
        queue = self.queues[call.queue_id]
        self.waiting[queue.id].discard((call.order, call.seq, call.call_id))
        call.status = CallStatus.OFFERED
        self.dirty_calls.add(call.call_id)
        callback = call.callback
        if callback is not None:  # each try is a call of its own at call-manager
            self.attempts.pop(callback.attempt_id or "", None)
            callback.attempt_id = new_id()
            self.attempts[callback.attempt_id] = call.call_id
        for agent in agents:
            offer_id = os.urandom(8).hex()
            self._set_state(agent, S.RESERVED, now, call_id=call.call_id)
            agent.offer_id, agent.offer_deadline = offer_id, now + queue.ring_timeout_s + OUTCOME_MARGIN_S
            call.offered_to.add(agent.id)
            self._timer(agent.offer_deadline, "offer", agent.id)
            self.effects.append(
                Offer(
                    call.call_id, agent.id, offer_id, queue.ring_timeout_s,
                    callback.number if callback else None, callback.attempt_id if callback else None,
                )
            )  # fmt: skip
            self._event(QueueCallKind.OFFERED, call, now, agent_id=agent.id)

    def outcome(self, call_id: str, agent_id: str, offer_id: str, result: ConnectResult, now: float) -> bool:
        """What call-manager reports of an offer; False (and nothing changes) for a stale one."""
        agent = self.agents.get(agent_id)
        call_id = self.attempts.get(call_id, call_id)
        call = self.calls.get(call_id)
        if agent is None or call is None or agent.offer_id != offer_id or agent.call_id != call_id:
            return False
        if result is ConnectResult.ANSWERED:
            self._answered(call, agent, now)
        elif result is ConnectResult.CALLER_GONE and call.callback is not None:
            self._release_offer(agent, now, missed=False, then=(S.READY, None))
        elif result is ConnectResult.CALLER_GONE:
            self.dequeue(call_id, "caller gone while ringing", now)
        elif result is ConnectResult.INTERRUPTED:  # not the agent's doing: they stay ready
            self._release_offer(agent, now, missed=False, then=(S.READY, None))
        else:
            self._release_offer(agent, now, missed=True, then=(S.NOT_READY, MISSED), why=result.value)
        return True

    def _answered(self, call: Call, agent: Agent, now: float) -> None:
        call.offered_to.discard(agent.id)
        self._cancel_offers(call, now)  # ring-all: the others stop ringing
        call.status, call.answered_by, call.answered_at = CallStatus.CONNECTED, agent.id, now
        self.dirty_calls.add(call.call_id)
        agent.missed_in_row = 0
        self._set_state(agent, S.ON_CALL, now, call_id=call.call_id)
        self._event(QueueCallKind.ANSWERED, call, now, agent_id=agent.id)

    def _release_offer(
        self, agent: Agent, now: float, *, missed: bool, then: tuple[AgentState, str | None], why: str = ""
    ) -> None:
        """The agent will not take the offered call: they leave RESERVED for ``then``; the call waits
        again (at its old place) unless others still ring."""
        call = self.calls[agent.call_id or ""]
        call.offered_to.discard(agent.id)
        if missed:
            agent.missed_in_row += 1
            agent.missed_total += 1
            self._event(QueueCallKind.MISSED, call, now, agent_id=agent.id, reason=why or MISSED)
        if then[0] is S.READY:
            self._become_free(agent, now)
        else:
            self._set_state(agent, then[0], now, then[1])
        if not call.offered_to:
            call.status = CallStatus.WAITING
            self.waiting[call.queue_id].add((call.order, call.seq, call.call_id))
            self.dirty_calls.add(call.call_id)
            self._route_call(call, now)

    def call_ended(self, call_id: str, now: float, *, unreached: bool = False) -> bool:
        """call-manager says the call ended: wrap-up for its agent, or an abandon while waiting. For a
        callback's try, ``unreached`` says the customer never answered."""
        callback_id = self.attempts.get(call_id)
        if callback_id is not None:
            return self._try_ended(self.calls[callback_id], now, unreached)
        call = self.calls.get(call_id)
        if call is None or call.callback is not None:
            return False
        if call.status is not CallStatus.CONNECTED:
            self.dequeue(call_id, "caller hung up", now)
            return True
        self._remove(call)
        self._event(QueueCallKind.ENDED, call, now, agent_id=call.answered_by)
        self._agent_done(call, now)
        return True

    def _agent_done(self, call: Call, now: float) -> None:
        """The agent's part of an answered call is over: wrap-up, then ready."""
        agent = self.agents.get(call.answered_by or "")
        if agent is not None and agent.state is S.ON_CALL and agent.call_id == call.call_id:
            agent.calls_handled += 1
            queue = self.queues.get(call.queue_id)
            wrap = queue.wrap_up_s if queue else 0.0
            talk = now - (call.answered_at or now)
            if queue is not None:
                self.handle[queue.id].observe(talk + wrap)
            agent.last_call, agent.last_queue = call.call_id, call.queue_id
            agent.wrap_up_until = now + wrap  # before the state: its event says when wrap-up ends
            self._set_state(agent, S.WRAP_UP, now, call_id=call.call_id)
            self._timer(agent.wrap_up_until, "wrap", agent.id)
            if wrap <= 0:
                self._become_free(agent, now)

    def dispose(
        self, agent_id: str, call_id: str, disposition: str | None, note: str, now: float, by: str | None
    ) -> CallDisposed:
        """The agent says how their last answered call ended: a disposition of the call's queue (one
        is required when the queue lists any) and a note. Said again, the latest counts."""
        agent = self.agent(agent_id)
        if agent.last_call != call_id or agent.last_queue is None:
            raise InvalidTransition(
                "only the agent's last finished call takes a disposition",
                {"agent_id": agent_id, "call_id": call_id, "last_call": agent.last_call},
            )
        queue = self.queues.get(agent.last_queue)
        codes = [c.code for c in queue.dispositions] if queue else []
        if codes and disposition not in codes:
            raise UnknownCode(
                f"{disposition!r} is not a disposition of queue {agent.last_queue!r}",
                {"disposition": disposition, "dispositions": codes},
            )
        event = CallDisposed(
            call_id=call_id, queue_id=agent.last_queue, agent_id=agent_id, disposition=disposition,
            note=note, at=wall(now), by=by,
        )  # fmt: skip
        self.effects.append(event)
        return event

    def left_agent(self, call_id: str, agent_id: str | None, now: float) -> bool:
        """call-manager moved a connected call away from its agent (a blind transfer to another agent
        or a number): the agent's part ends as if the call had ended."""
        call = self.calls.get(self.attempts.get(call_id, call_id))
        if call is None or call.status is not CallStatus.CONNECTED or call.answered_by == agent_id:
            return False
        return self.call_ended(call_id, now)

    def raise_help(self, agent_id: str, reason: str, call_id: str | None, now: float) -> Help:
        """A logged-in agent asks for a supervisor, about their current call unless told otherwise."""
        agent = self.agent(agent_id)
        if agent.state is S.LOGGED_OUT:
            raise InvalidTransition("the agent is logged out: log in first", {"agent_id": agent_id})
        return self.help.raise_help(agent_id, reason, call_id or agent.call_id, now)

    # callbacks ----------------------------------------------------------------------------------
    def request_callback(
        self,
        queue_id: str,
        number: str,
        now: float,
        *,
        name: str = "",
        replaces: str | None = None,
        not_before: float | None = None,
        not_after: float | None = None,
        priority: int = 0,
        attempts: int = 3,
        retry_after_s: float = 300.0,
    ) -> Call:
        """A callback joins the line: in the place of the waiting call it ``replaces``, else as a new
        arrival. Callbacks are taken whatever the queue's hours, length and staffing: they wait."""
        queue = self._queue(queue_id)
        if not_after is not None and (
            not_after <= now or (not_before is not None and not_after <= not_before)
        ):
            raise InvalidCallback(
                "the callback window is over or ends before it starts", {"queue_id": queue_id}
            )
        callback = Callback(number, name, not_before, not_after, attempts, retry_after_s, replaced=replaces)
        if replaces is not None:
            old = self.call(replaces)
            if old.status is CallStatus.CONNECTED or old.callback is not None:
                raise InvalidTransition(
                    "only a waiting call can be replaced by a callback", {"call_id": replaces}
                )
            self._cancel_offers(old, now)
            self._remove(old)
            priority = max(priority, old.priority)
            call = Call(
                new_id(), old.queue_id, number, priority, old.skills, old.personal_agent_id, old.entered_at,
                old.first_entered_at, old.seq, order=old.order, callback=callback,
            )  # fmt: skip
            self._event(QueueCallKind.CALLBACK, old, now, target=call.call_id)
        else:
            self._seq += 1
            call = Call(
                new_id(), queue.id, number, priority, {}, None, now, now, self._seq,
                order=now - priority * queue.priority_step_s, callback=callback,
            )  # fmt: skip
            self.arrivals[queue.id].append(now)
        self.calls[call.call_id] = call
        self._line_up(call, not_before, now)
        if not_after is not None:
            self._timer(not_after, "call", call.call_id)
        self._event(QueueCallKind.ENQUEUED, call, now, reason="callback")
        self._route_call(call, now)
        return call

    def _line_up(self, call: Call, due: float | None, now: float) -> None:
        """A callback waits in line at its place, or is scheduled to join it at ``due``."""
        callback = call.callback
        assert callback is not None
        call.offered_to.clear()
        call.answered_by = call.answered_at = None
        if due is not None and due > now:
            call.status, callback.due = CallStatus.SCHEDULED, due
            self._timer(due, "call", call.call_id)
        else:
            call.status, callback.due = CallStatus.WAITING, None
            self.waiting[call.queue_id].add((call.order, call.seq, call.call_id))
        self.dirty_calls.add(call.call_id)

    def _try_ended(self, call: Call, now: float, unreached: bool) -> bool:
        """A callback's try ended at call-manager: done, tried again later, or given up."""
        callback = call.callback
        assert callback is not None
        self.attempts.pop(callback.attempt_id or "", None)
        if call.status is CallStatus.OFFERED:  # over before the agent answered
            for agent_id in sorted(call.offered_to):
                self._release_offer(
                    self.agents[agent_id], now, missed=True, then=(S.NOT_READY, MISSED), why="ended"
                )
            return True
        if call.status is not CallStatus.CONNECTED:
            return False
        answered_by = call.answered_by
        self._agent_done(call, now)
        if not unreached:
            self._remove(call)
            self._event(QueueCallKind.ENDED, call, now, agent_id=answered_by)
            return True
        callback.tried += 1
        retry = now + callback.retry_after_s
        if callback.tried < callback.attempts and (callback.not_after is None or retry < callback.not_after):
            self._line_up(call, retry, now)
            self._event(
                QueueCallKind.UNREACHED, call, now, agent_id=answered_by,
                reason=f"try {callback.tried} of {callback.attempts}; again later",
            )  # fmt: skip
        else:
            self._remove(call)
            self._event(
                QueueCallKind.UNREACHED, call, now, agent_id=answered_by,
                reason=f"try {callback.tried} of {callback.attempts}; given up",
            )  # fmt: skip
        return True

    def _callback_due(self, call: Call, now: float) -> None:
        callback = call.callback
        assert callback is not None
        if call.status is CallStatus.CONNECTED:
            return
        if callback.not_after is not None and now >= callback.not_after:
            if call.status is CallStatus.OFFERED:  # let the ring finish
                self._timer(
                    now + self.queues[call.queue_id].ring_timeout_s + OUTCOME_MARGIN_S, "call", call.call_id
                )
                return
            self._remove(call)
            self._event(QueueCallKind.TIMED_OUT, call, now, reason="callback window closed")
        elif call.status is CallStatus.SCHEDULED and callback.due is not None and callback.due <= now:
            self._line_up(call, None, now)
            self._route_call(call, now)

    def reconcile(self, live: set[str], asked_at: float, now: float) -> int:
        """Align with the calls call-manager ran at ``asked_at`` (``live``, its ids) after a start or
        a reconnect: a call it did not have ended while nobody was listening. Calls that came after
        the question are left alone. Returns how many were ended."""
        gone = 0
        for call in list(self.calls.values()):
            if call.callback is not None and call.status in (CallStatus.SCHEDULED, CallStatus.WAITING):
                continue  # no call at call-manager while a callback waits
            if call.callback is not None:  # the try began when the agent was offered it
                agents = [
                    self.agents[a] for a in {*call.offered_to, call.answered_by or ""} if a in self.agents
                ]
                began = min((agent.since for agent in agents), default=now)
            else:
                began = call.first_entered_at
            switch_id = self._switch_id(call)
            if began < asked_at - 1.0 and switch_id not in live and call.call_id in self.calls:
                gone += self.call_ended(switch_id, now, unreached=True)
        return gone

    # time ---------------------------------------------------------------------------------------
    def _timer(self, due: float, kind: str, key: str) -> None:
        self._timer_n += 1
        heapq.heappush(self._timers, (due, self._timer_n, kind, key))

    def next_due(self) -> float | None:
        return self._timers[0][0] if self._timers else None

    def tick(self, now: float) -> None:
        """Run what is due: missing offer outcomes, ends of wrap-up, waits that end (personal agent,
        overflow, maximum wait)."""
        self.help.tick(now)
        for _ in range(MAX_TIMERS_PER_TICK):
            if not self._timers or self._timers[0][0] > now:
                break
            _, _, kind, key = heapq.heappop(self._timers)
            if kind == "offer":
                agent = self.agents.get(key)
                if (
                    agent
                    and agent.state is S.RESERVED
                    and agent.offer_deadline
                    and agent.offer_deadline <= now
                ):
                    self._release_offer(agent, now, missed=True, then=(S.NOT_READY, MISSED), why="no outcome")
            elif kind == "wrap":
                agent = self.agents.get(key)
                if agent and agent.state is S.WRAP_UP and agent.wrap_up_until and agent.wrap_up_until <= now:
                    self._become_free(agent, now)
            elif kind == "call" and key in self.calls:
                self._call_deadline(self.calls[key], now)

    def _call_deadline(self, call: Call, now: float) -> None:
        queue = self.queues[call.queue_id]
        if call.callback is not None:
            self._callback_due(call, now)
            return
        if call.status is CallStatus.CONNECTED:
            return
        if call.status is CallStatus.OFFERED:  # let the ring finish, look again afterwards
            self._timer(now + queue.ring_timeout_s + OUTCOME_MARGIN_S, "call", call.call_id)
            return
        if queue.max_wait_s is not None and call.waited(now) >= queue.max_wait_s:
            self._leave(call, now, QueueCallKind.TIMED_OUT, "maximum wait")
        elif queue.overflow_after_s is not None and now - call.entered_at >= queue.overflow_after_s:
            self._leave(call, now, QueueCallKind.OVERFLOWED, "overflow")
        else:
            self._route_call(call, now)  # e.g. the wait for the caller's own agent is over

    def _leave(self, call: Call, now: float, kind: QueueCallKind, reason: str) -> None:
        """The call leaves its queue for the overflow target (another queue keeps its first time; a
        callback to a caller with a number keeps the call's place)."""
        target = self.queues[call.queue_id].overflow_target
        if target == "callback" and call.callback is None and CALLBACK_NUMBER.match(call.caller):
            self.request_callback(call.queue_id, call.caller, now, replaces=call.call_id)
            return
        if call.overflows >= MAX_OVERFLOWS:  # a loop of queues made at run time: the caller stops here
            target = None
        self._remove(call)
        self._event(kind, call, now, reason=reason, target=target)
        if target is not None and target.startswith("queue:") and target[6:] in self.queues:
            call.overflows += 1
            self._seq += 1
            call.seq = self._seq
            self._enter(call, self.queues[target[6:]], now)
            self._event(QueueCallKind.ENQUEUED, call, now, reason="overflow")
            self._route_call(call, now)

    def _leave_empty_queues(self, agent: Agent, now: float) -> None:
        for queue_id in self.agent_queues[agent.id]:
            queue = self.queues[queue_id]
            if queue.leave_empty and not self._logged_in(queue_id):
                for call in self._waiting_calls(queue_id):
                    self._leave(call, now, QueueCallKind.TIMED_OUT, "no agent left")

    # what is seen -------------------------------------------------------------------------------
    def _waiting_calls(self, queue_id: str) -> list[Call]:
        return [self.calls[call_id] for _, _, call_id in self.waiting[queue_id]]

    def _logged_in(self, queue_id: str) -> int:
        return sum(1 for a in self.eligible[queue_id] if self.agents[a].state in LOGGED_IN)

    def position(self, call: Call) -> int:
        if call.status is not CallStatus.WAITING:
            return 1
        return int(self.waiting[call.queue_id].index((call.order, call.seq, call.call_id))) + 1

    def expected_wait(self, queue_id: str, position: int) -> float | None:
        staffed = sum(1 for a in self.eligible[queue_id] if self.agents[a].state in STAFFED)
        return expected_wait(position, len(self.ready[queue_id]), staffed, self.handle[queue_id].aht_s)

    def stats(self, queue_id: str, now: float) -> dict[str, object]:
        queue = self._queue(queue_id)
        waiting = self._waiting_calls(queue_id)
        states = {state.value: 0 for state in AgentState}
        for agent_id in self.eligible[queue_id]:
            states[self.agents[agent_id].state.value] += 1
        arrivals = self.arrivals[queue_id]
        while arrivals and arrivals[0] < now - ARRIVAL_WINDOW_S:
            arrivals.popleft()
        aht = self.handle[queue_id].aht_s
        staffed = sum(states[s.value] for s in STAFFED)
        return {
            "queue_id": queue.id,
            "waiting": len(waiting),
            "offered": sum(
                1 for c in self.calls.values() if c.queue_id == queue_id and c.status is CallStatus.OFFERED
            ),
            "longest_wait_s": max((c.waited(now) for c in waiting), default=0.0),
            "agents": states,
            "staffed": staffed,
            "aht_s": round(aht, 1),
            "expected_wait_s": self.expected_wait(queue_id, len(waiting) + 1),
            "erlang_c_wait_s": erlang_c_wait(len(arrivals) / ARRIVAL_WINDOW_S, aht, staffed),
        }

    def _event(
        self,
        kind: QueueCallKind,
        call: Call,
        now: float,
        *,
        agent_id: str | None = None,
        reason: str | None = None,
        target: str | None = None,
    ) -> None:
        waiting = kind in (QueueCallKind.ENQUEUED, QueueCallKind.MISSED) and call.status is CallStatus.WAITING
        position = self.position(call) if waiting else None
        self.effects.append(
            QueueCallEvent(
                queue_id=call.queue_id,
                step=kind,
                call_id=call.call_id,
                at=wall(now),
                caller=call.caller,
                priority=call.priority,
                agent_id=agent_id,
                waited_s=round(call.waited(now), 3),
                position=position,
                expected_wait_s=self.expected_wait(call.queue_id, position) if position else None,
                target=target,
                reason=reason,
            )
        )
