"""The agents of each campaign's queue as queue-manager tells them (it stays the only writer of agent
state): a snapshot from core-bus's agent list, then every ``AgentStateChanged`` (a stale or repeated
one, by its ``seq``, changes nothing). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from callisto_protocol.agents import AgentState, AgentStateChanged
from callisto_protocol.lists import AgentEntry

S = AgentState


@dataclass(frozen=True)
class Seen:
    seq: int
    state: AgentState
    since: datetime
    until: datetime | None
    queues: frozenset[str]


@dataclass(frozen=True)
class Team:
    """A queue's agents now: ready ones, seconds into each call, seconds left of each wrap-up."""

    ready: int
    talking: tuple[float, ...]
    wrapping: tuple[float, ...]


class Floors:
    def __init__(self, default_wrap_s: float = 20.0) -> None:
        self.agents: dict[str, Seen] = {}
        self.default_wrap_s = default_wrap_s

    def load(self, entries: list[AgentEntry]) -> None:
        """A snapshot: agents it names take its state unless an event already brought a newer one."""
        for entry in entries:
            if entry.agent_id not in self.agents:
                self.agents[entry.agent_id] = Seen(
                    -1, entry.state, entry.since, entry.until, frozenset(entry.queues)
                )

    def apply(self, event: AgentStateChanged) -> bool:
        known = self.agents.get(event.agent_id)
        if known is not None and event.seq <= known.seq:
            return False  # stale or repeated (a snapshot's entry has no seq: -1)
        self.agents[event.agent_id] = Seen(
            event.seq, event.state, event.since, event.until, frozenset(event.queues)
        )
        return True

    def team(self, queue_id: str, now: datetime) -> Team:
        ready, talking, wrapping = 0, [], []
        for seen in self.agents.values():
            if queue_id not in seen.queues:
                continue
            if seen.state is S.READY:
                ready += 1
            elif seen.state is S.RESERVED:
                talking.append(0.0)  # being offered a call: busy from now
            elif seen.state is S.ON_CALL:
                talking.append(max(0.0, (now - seen.since).total_seconds()))
            elif seen.state is S.WRAP_UP:
                ends = seen.until.timestamp() if seen.until else seen.since.timestamp() + self.default_wrap_s
                wrapping.append(max(0.0, ends - now.timestamp()))
        return Team(ready, tuple(talking), tuple(wrapping))

    def ready_agents(self, queue_id: str) -> set[str]:
        return {a for a, seen in self.agents.items() if queue_id in seen.queues and seen.state is S.READY}
