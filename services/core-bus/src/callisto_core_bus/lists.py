"""Agent and call lists: the current entry per agent or call, built from state events.

A state event carries ``seq``, growing per agent or call; one whose ``seq`` is not above what the
book holds is stale or a duplicate and is ignored. Changes gather until ``take_delta`` hands them
out, so many changes in a short time become one broadcast delta; ``seq`` of the book grows by one
per delta handed out.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

from pydantic import BaseModel

from callisto_protocol.agents import AgentState, AgentStateChanged
from callisto_protocol.calls import CallState, CallStateChanged
from callisto_protocol.lists import AgentEntry, CallEntry

EntryT = TypeVar("EntryT", bound=BaseModel)
# Sequence numbers of removed entries are remembered (to refuse late events) up to this many keys.
REMEMBERED_KEYS = 200_000


class ListBook(Generic[EntryT]):
    def __init__(self) -> None:
        self.seq = 0
        self._entries: dict[str, EntryT] = {}
        self._source_seq: OrderedDict[str, int] = OrderedDict()
        self._upserted: dict[str, EntryT] = {}
        self._removed: set[str] = set()

    def _accept(self, key: str, source_seq: int) -> bool:
        if source_seq <= self._source_seq.get(key, -1):
            return False
        self._source_seq[key] = source_seq
        self._source_seq.move_to_end(key)
        if len(self._source_seq) > REMEMBERED_KEYS:
            for old in list(self._source_seq)[: len(self._source_seq) - REMEMBERED_KEYS]:
                if old not in self._entries:
                    del self._source_seq[old]
        return True

    def _upsert(self, key: str, entry: EntryT) -> None:
        self._entries[key] = entry
        self._upserted[key] = entry
        self._removed.discard(key)

    def _remove(self, key: str) -> None:
        if self._entries.pop(key, None) is not None:
            self._removed.add(key)
        self._upserted.pop(key, None)

    def get(self, key: str) -> EntryT | None:
        return self._entries.get(key)

    def entries(self) -> list[EntryT]:
        return [self._entries[k] for k in sorted(self._entries)]

    def __len__(self) -> int:
        return len(self._entries)

    def take_delta(self) -> tuple[int, list[EntryT], list[str]] | None:
        """The changes since the last call, numbered; None when nothing changed."""
        if not self._upserted and not self._removed:
            return None
        self.seq += 1
        upserted = [self._upserted[k] for k in sorted(self._upserted)]
        removed = sorted(self._removed)
        self._upserted.clear()
        self._removed.clear()
        return self.seq, upserted, removed


class AgentBook(ListBook[AgentEntry]):
    def apply(self, event: AgentStateChanged) -> bool:
        """Apply a state event; False when it is stale or a duplicate."""
        if not self._accept(event.agent_id, event.seq):
            return False
        if event.state is AgentState.LOGGED_OUT:
            self._remove(event.agent_id)
        else:
            self._upsert(
                event.agent_id,
                AgentEntry(
                    agent_id=event.agent_id,
                    name=event.name,
                    state=event.state,
                    since=event.since,
                    reason=event.reason,
                    call_id=event.call_id,
                    queues=event.queues,
                    until=event.until,
                ),
            )
        return True


class CallBook(ListBook[CallEntry]):
    def apply(self, event: CallStateChanged) -> bool:
        if not self._accept(event.call_id, event.seq):
            return False
        if event.state is CallState.ENDED:
            self._remove(event.call_id)
        else:
            self._upsert(
                event.call_id,
                CallEntry(
                    call_id=event.call_id,
                    state=event.state,
                    since=event.since,
                    direction=event.direction,
                    caller=event.caller,
                    dialled=event.dialled,
                    queue_id=event.queue_id,
                    agent_id=event.agent_id,
                ),
            )
        return True
