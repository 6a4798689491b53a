"""The real-time board: today's figures of every queue, line and agent, kept from bus events.

Counting is order-proof and duplicate-proof. A queue's counters grow only when a fact about one call
in that queue becomes known for the first time (its entry, the way it left, its end), so a duplicate
changes nothing and a step that arrives before the call's entry still counts once. An agent's time
in each state is the sum of the intervals between consecutive state changes ordered by their
``seq``, so a change that arrives late is slotted in between its neighbours. "Today" is the business
day of the configured time zone; at midnight counters start again from zero while calls that are
still waiting and agents' current states carry over.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sortedcontainers import SortedDict

from callisto_protocol.agents import AgentState, AgentStateChanged
from callisto_protocol.queues import QueueCallEvent, QueueCallKind
from callisto_snitch.definitions import Definitions, QueueDefinition

S = AgentState
K = QueueCallKind
BUSY = frozenset((S.ON_CALL, S.WRAP_UP))
AVAILABLE = frozenset((S.READY, S.RESERVED))
EXITS = {
    K.ANSWERED: "answered",
    K.ABANDONED: "abandoned",
    K.OVERFLOWED: "overflowed",
    K.TIMED_OUT: "timed_out",
    K.CALLBACK: "callback",
}
SHOWN_STATES = [s.value for s in AgentState if s is not S.LOGGED_OUT]


class BusinessDay:
    """Where today starts in the contact center's time zone."""

    def __init__(self, zone: str) -> None:
        self.zone = ZoneInfo(zone)

    def start(self, at: float) -> float:
        local = datetime.fromtimestamp(at, self.zone)
        return datetime.combine(local.date(), time(), self.zone).timestamp()

    def next_start(self, start: float) -> float:
        local = datetime.fromtimestamp(start, self.zone)
        return datetime.combine(local.date() + timedelta(days=1), time(), self.zone).timestamp()


@dataclass(slots=True)
class QueueCall:
    """What is known of one call (or callback) in one queue today; every field is set once."""

    callback: bool = False
    entered_at: float | None = None
    outcome: str | None = None
    waited_s: float = 0.0
    agent_id: str | None = None
    answered_at: float | None = None
    ended_at: float | None = None


@dataclass(slots=True)
class Tally:
    """A queue's (or line's) counters for today."""

    entered: int = 0
    answered: int = 0
    answered_in_sl: int = 0
    answered_wait_s: float = 0.0
    abandoned: int = 0
    short_abandoned: int = 0
    overflowed: int = 0
    timed_out: int = 0
    to_callback: int = 0
    handled: int = 0
    talk_s: float = 0.0
    wrap_s: float = 0.0
    callbacks_requested: int = 0
    callbacks_done: int = 0
    callbacks_unreached: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class QueueBoard:
    queue_id: str
    tally: Tally = field(default_factory=Tally)
    calls: dict[str, QueueCall] = field(default_factory=dict)
    waiting: dict[str, float] = field(default_factory=dict)  # call id: entered at
    callbacks_pending: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Change:
    state: AgentState
    since: float
    call_id: str | None
    reason: str | None = None


@dataclass
class AgentBoard:
    agent_id: str
    name: str = ""
    queues: tuple[str, ...] = ()
    seq: int = -1
    handled: int = 0
    changes: SortedDict[int, Change] = field(default_factory=SortedDict)  # seq: Change, today's
    time_in: dict[AgentState, float] = field(default_factory=lambda: defaultdict(float))
    busy_s: float = 0.0  # closed intervals today on call or in wrap-up
    available_s: float = 0.0  # closed intervals today ready or ringing
    last: Change | None = None  # the change of the highest seq: the agent's state now, its interval open
    lines: tuple[str, ...] = ()

    @property
    def state(self) -> AgentState:
        return self.last.state if self.last is not None else S.LOGGED_OUT

    def seconds_in(self, now: float, day_start: float) -> dict[AgentState, float]:
        """Time in each state today, the current state's open interval included."""
        spent = dict(self.time_in)
        if self.last is not None:
            spent[self.last.state] = spent.get(self.last.state, 0.0) + self.open_s(now, day_start)
        return spent

    def open_s(self, now: float, day_start: float) -> float:
        return max(0.0, now - max(self.last.since, day_start)) if self.last is not None else 0.0

    def busy_available(self, now: float, day_start: float) -> tuple[float, float]:
        busy, available = self.busy_s, self.available_s
        if self.last is not None:
            if self.last.state in BUSY:
                busy += self.open_s(now, day_start)
            elif self.last.state in AVAILABLE:
                available += self.open_s(now, day_start)
        return busy, available


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def kpis(
    tally: Tally,
    definition: QueueDefinition,
    *,
    waiting: Iterable[float],
    callbacks_pending: int,
    agents: dict[str, int],
    busy_s: float,
    available_s: float,
    now: float,
) -> dict[str, Any]:
    """The figures of a queue or line (README.md, "KPI definitions")."""
    entries = list(waiting)
    counted_abandons = tally.abandoned - tally.short_abandoned
    sl_answered = _ratio(tally.answered_in_sl, tally.answered)
    sl_with_abandons = _ratio(tally.answered_in_sl, tally.answered + counted_abandons)
    figures: dict[str, Any] = {
        "name": definition.name,
        "waiting": len(entries),
        "longest_wait_s": round(now - min(entries), 1) if entries else 0.0,
        "callbacks_pending": callbacks_pending,
        "offered": tally.entered,
        "answered": tally.answered,
        "abandoned": tally.abandoned,
        "short_abandoned": tally.short_abandoned,
        "overflowed": tally.overflowed,
        "timed_out": tally.timed_out,
        "to_callback": tally.to_callback,
        "handled": tally.handled,
        "callbacks_requested": tally.callbacks_requested,
        "callbacks_done": tally.callbacks_done,
        "service_level": sl_answered if definition.service_level_basis == "answered" else sl_with_abandons,
        "service_level_answered": sl_answered,
        "service_level_with_abandons": sl_with_abandons,
        "service_level_s": definition.service_level_s,
        "asa_s": round(tally.answered_wait_s / tally.answered, 1) if tally.answered else None,
        "aht_s": round((tally.talk_s + tally.wrap_s) / tally.handled, 1) if tally.handled else None,
        "abandon_rate": _ratio(counted_abandons, tally.entered - tally.short_abandoned),
        "occupancy": _ratio(busy_s, busy_s + available_s),
        "agents": {state: agents.get(state, 0) for state in SHOWN_STATES},
        "staffed": sum(n for state, n in agents.items() if state != S.LOGGED_OUT),
    }
    figures["colours"] = {k: (v.value if v else None) for k, v in definition.colours(figures).items()}
    return figures


class Board:
    def __init__(self, definitions: Definitions, zone: str = "UTC") -> None:
        self.definitions = definitions
        self.day = BusinessDay(zone)
        self.day_start = 0.0
        self.day_end = 0.0
        self.queues: dict[str, QueueBoard] = {}
        self.agents: dict[str, AgentBoard] = {}
        self.call_queue: dict[str, str] = {}  # answered call: its queue (for wrap-up time)
        self.unplaced_wrap: dict[str, float] = defaultdict(float)  # wrap-up of calls not yet answered here
        self.dirty_agents: set[str] = set()
        self.events = 0
        self.line_of: dict[str, list[str]] = {}
        self.dropped_lines: set[str] = set()  # lines a new version removed: gone from the tables next
        self.definitions = definitions
        self.use(definitions)

    def use(self, definitions: Definitions) -> None:
        """Figures and colours follow ``definitions`` from now on (a new version of the document): the
        day's counts stay, lines are regrouped, a queue it names appears on the board."""
        self.dropped_lines |= set(self.definitions.lines) - set(definitions.lines)
        self.dropped_lines -= set(definitions.lines)
        self.definitions = definitions
        self.line_of = self._lines_of_queues()
        for queue_id in definitions.queues:
            self.queue(queue_id)
        for line in definitions.lines.values():
            for queue_id in line.queues:
                self.queue(queue_id)
        for agent in self.agents.values():
            agent.lines = self._lines_of(agent.queues)
            self.dirty_agents.add(agent.agent_id)

    # the day ----------------------------------------------------------------------------------
    def roll(self, now: float) -> None:
        """Start a new day when ``now`` is past the current one."""
        if now < self.day_end:
            return  # today (or a clock that stepped back: days only move forward)
        self.day_start = self.day.start(now)
        self.day_end = self.day.next_start(self.day_start)
        self.call_queue.clear()
        self.unplaced_wrap.clear()
        for queue in self.queues.values():
            queue.tally = Tally()
            kept = set(queue.waiting) | queue.callbacks_pending
            queue.calls = {call_id: c for call_id, c in queue.calls.items() if call_id in kept}
        for agent in self.agents.values():
            agent.time_in = defaultdict(float)
            agent.busy_s = agent.available_s = 0.0
            agent.handled = 0
            if agent.changes:
                last = agent.changes.peekitem(-1)
                agent.changes = SortedDict({last[0]: last[1]})
            self.dirty_agents.add(agent.agent_id)

    def queue(self, queue_id: str) -> QueueBoard:
        board = self.queues.get(queue_id)
        if board is None:
            board = self.queues[queue_id] = QueueBoard(queue_id)
        return board

    # events -----------------------------------------------------------------------------------
    def apply(self, event: object, now: float) -> None:
        self.roll(now)
        if isinstance(event, QueueCallEvent):
            self.queue_step(event)
        elif isinstance(event, AgentStateChanged):
            self.agent_state(event)
        else:
            return
        self.events += 1

    def queue_step(self, event: QueueCallEvent) -> None:
        at = event.at.timestamp()
        if at < self.day_start:
            return  # yesterday's (a replay that started early)
        queue = self.queue(event.queue_id)
        call = queue.calls.get(event.call_id)
        if call is None:
            call = queue.calls[event.call_id] = QueueCall()
        step = event.step
        if step is K.ENQUEUED:
            self._entered(queue, event.call_id, call, at, event.reason == "callback")
        elif step in EXITS:
            self._left(queue, event, call, at)
        elif step is K.ENDED:
            self._ended(queue, event.call_id, call, at)
        elif step is K.UNREACHED:
            self._unreached(queue, event, call, at)

    def _entered(self, queue: QueueBoard, call_id: str, call: QueueCall, at: float, callback: bool) -> None:
        if call.entered_at is not None:
            return
        call.entered_at = at
        call.callback = call.callback or callback
        if call.callback:
            queue.tally.callbacks_requested += 1
            if call.ended_at is None and call.outcome not in ("abandoned", "timed_out"):
                queue.callbacks_pending.add(call_id)
            return
        queue.tally.entered += 1
        if call.outcome is None:
            queue.waiting[call_id] = at

    def _left(self, queue: QueueBoard, event: QueueCallEvent, call: QueueCall, at: float) -> None:
        if call.outcome is not None:
            return
        outcome = EXITS[event.step]
        call.outcome, call.waited_s = outcome, event.waited_s
        queue.waiting.pop(event.call_id, None)
        tally = queue.tally
        if call.callback:
            self._callback_left(queue, event.call_id, call, outcome)
            return
        definition = self.definitions.queue(queue.queue_id)
        if outcome == "answered":
            call.answered_at, call.agent_id = at, event.agent_id
            tally.answered += 1
            tally.answered_wait_s += event.waited_s
            tally.answered_in_sl += event.waited_s <= definition.service_level_s
            self.call_queue[event.call_id] = queue.queue_id
            tally.wrap_s += self.unplaced_wrap.pop(event.call_id, 0.0)
            if event.agent_id is not None:
                self.agent(event.agent_id).handled += 1
                self.dirty_agents.add(event.agent_id)
            if call.ended_at is not None:
                self._talked(queue, call)
        elif outcome == "abandoned":
            tally.abandoned += 1
            tally.short_abandoned += event.waited_s < definition.short_abandon_s
        elif outcome == "overflowed":
            tally.overflowed += 1
        elif outcome == "timed_out":
            tally.timed_out += 1
        else:
            tally.to_callback += 1

    def _callback_left(self, queue: QueueBoard, call_id: str, call: QueueCall, outcome: str) -> None:
        """A callback: answered means an agent took it (the customer is rung next); abandoned
        (cancelled) and timed out (window closed) end it."""
        call.callback = True
        if outcome == "answered":
            call.outcome = None  # a try may follow another: only its end decides
            call.answered_at = None
        elif outcome in ("abandoned", "timed_out"):
            queue.callbacks_pending.discard(call_id)

    def _ended(self, queue: QueueBoard, call_id: str, call: QueueCall, at: float) -> None:
        if call.ended_at is not None:
            return
        call.ended_at = at
        if call.callback:
            queue.tally.callbacks_done += 1
            queue.callbacks_pending.discard(call_id)
        elif call.answered_at is not None:
            self._talked(queue, call)

    def _unreached(self, queue: QueueBoard, event: QueueCallEvent, call: QueueCall, at: float) -> None:
        call.callback = True
        queue.tally.callbacks_unreached += 1
        if event.reason and "given up" in event.reason:
            queue.callbacks_pending.discard(event.call_id)
            call.ended_at = call.ended_at or at

    def _talked(self, queue: QueueBoard, call: QueueCall) -> None:
        assert call.answered_at is not None
        assert call.ended_at is not None
        queue.tally.handled += 1
        queue.tally.talk_s += max(0.0, call.ended_at - call.answered_at)

    # agents -----------------------------------------------------------------------------------
    def agent(self, agent_id: str) -> AgentBoard:
        board = self.agents.get(agent_id)
        if board is None:
            board = self.agents[agent_id] = AgentBoard(agent_id)
        return board

    def agent_state(self, event: AgentStateChanged) -> None:
        agent = self.agent(event.agent_id)
        changes = agent.changes
        if event.seq in changes:
            return
        since = event.since.timestamp()
        change = Change(event.state, since, event.call_id, event.reason)
        after = changes.bisect_right(event.seq)
        previous: Change | None = changes.peekitem(after - 1)[1] if after > 0 else None
        following: Change | None = changes.peekitem(after)[1] if after < len(changes) else None
        if previous is not None and following is not None:
            self._credit(agent, previous, following.since, -1)
        if previous is not None:
            self._credit(agent, previous, since, +1)
        if following is not None:
            self._credit(agent, change, following.since, +1)
        changes[event.seq] = change
        if event.seq > agent.seq:
            agent.last, agent.seq = change, event.seq
            agent.name = event.name or agent.name
            if tuple(event.queues) != agent.queues:
                agent.queues = tuple(event.queues)
                agent.lines = self._lines_of(agent.queues)
                for queue_id in agent.queues:
                    self.queue(queue_id)
        self.dirty_agents.add(agent.agent_id)

    def _credit(self, agent: AgentBoard, change: Change, until: float, sign: int) -> None:
        seconds = sign * max(0.0, until - max(change.since, self.day_start))
        agent.time_in[change.state] += seconds
        if change.state in BUSY:
            agent.busy_s += seconds
        elif change.state in AVAILABLE:
            agent.available_s += seconds
        if change.state is S.WRAP_UP and change.call_id is not None:
            queue_id = self.call_queue.get(change.call_id)
            if queue_id is not None:
                self.queues[queue_id].tally.wrap_s += seconds
            else:
                self.unplaced_wrap[change.call_id] += seconds

    # the snapshot -----------------------------------------------------------------------------
    def snapshot(self, now: float) -> dict[str, Any]:
        self.roll(now)
        by_queue: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        time_by_queue: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        by_line: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        time_by_line: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for agent in self.agents.values():
            busy, available = agent.busy_available(now, self.day_start)
            state = agent.state.value
            for queue_id in agent.queues:
                by_queue[queue_id][state] += 1
                spent_q = time_by_queue[queue_id]
                spent_q[0] += busy
                spent_q[1] += available
            for line_id in agent.lines:
                by_line[line_id][state] += 1
                spent_l = time_by_line[line_id]
                spent_l[0] += busy
                spent_l[1] += available
        queues = {
            queue_id: kpis(
                queue.tally,
                self.definitions.queue(queue_id),
                waiting=queue.waiting.values(),
                callbacks_pending=len(queue.callbacks_pending),
                agents=by_queue[queue_id],
                busy_s=time_by_queue[queue_id][0],
                available_s=time_by_queue[queue_id][1],
                now=now,
            )
            for queue_id, queue in self.queues.items()
        }
        lines_out = {}
        for line_id, line in self.definitions.lines.items():
            tally = Tally()
            waiting: list[float] = []
            pending = 0
            for queue_id in line.queues:
                queue = self.queues[queue_id]
                tally.add(queue.tally)
                waiting.extend(queue.waiting.values())
                pending += len(queue.callbacks_pending)
            lines_out[line_id] = kpis(
                tally, self.definitions.line(line_id), waiting=waiting, callbacks_pending=pending,
                agents=by_line[line_id], busy_s=time_by_line[line_id][0],
                available_s=time_by_line[line_id][1], now=now,
            )  # fmt: skip
            lines_out[line_id]["queues"] = list(line.queues)
        return {"at": now, "day_start": self.day_start, "queues": queues, "lines": lines_out}

    def _lines_of_queues(self) -> dict[str, list[str]]:
        lines: dict[str, list[str]] = defaultdict(list)
        for line_id, line in self.definitions.lines.items():
            for queue_id in line.queues:
                lines[queue_id].append(line_id)
        return lines

    def _lines_of(self, queues: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted({line_id for q in queues for line_id in self.line_of.get(q, ())}))

    def agent_rows(self, now: float, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        self.roll(now)
        rows = []
        for agent_id in self.agents if ids is None else ids:
            agent = self.agents.get(agent_id)
            if agent is None:
                continue
            spent = agent.seconds_in(now, self.day_start)
            busy, available = agent.busy_available(now, self.day_start)
            last = agent.last or Change(S.LOGGED_OUT, 0.0, None)
            rows.append({
                "agent_id": agent.agent_id, "name": agent.name, "state": last.state.value,
                "since": last.since, "in_state_s": round(max(0.0, now - last.since), 1),
                "reason": last.reason, "call_id": last.call_id, "queues": list(agent.queues),
                "handled": agent.handled,
                "seconds": {state.value: round(spent.get(state, 0.0), 1) for state in AgentState},
                "occupancy": _ratio(busy, busy + available),
            })  # fmt: skip
        return rows
