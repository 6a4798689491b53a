"""Bus side of snitch: the durable consumers that write history, one per kind of event (NATS 2.9
takes one filter per consumer), each storing a batch per transaction before acknowledging it."""

from __future__ import annotations

from callisto_protocol.agents import AgentStateChanged
from callisto_protocol.calls import CallStateChanged
from callisto_protocol.queues import QueueCallEvent
from callisto_runtime import Bus, DurableConsumer
from callisto_snitch.history import History


def history_consumers(bus: Bus, history: History, batch: int) -> list[DurableConsumer]:
    return [
        DurableConsumer(bus, f"snitch-history-{name}", subject, batch_handler=history.store, batch=batch)
        for name, subject in (
            ("queue-log", QueueCallEvent.subscription()),
            ("agent-states", AgentStateChanged.subscription()),
            ("calls", CallStateChanged.subscription()),
        )
    ]
