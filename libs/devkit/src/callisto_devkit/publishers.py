"""For tests and tools that stand in for other services: each event is published from a bus of the
service that is its publisher, as receivers insist (an event from any other origin is refused)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from callisto_protocol import Event
from callisto_runtime import Bus
from callisto_runtime.metrics import BusMetrics


class Publishers:
    """One bus per publishing service, opened on first use; ``close()`` closes them all."""

    def __init__(self, url: str, passwords: dict[str, str] | None = None) -> None:
        self.url = url
        self.passwords = passwords or {}
        self.buses: dict[str, Bus] = {}

    async def publish(self, event: Event) -> None:
        publisher = event.publisher_of(event.render_subject())
        bus = self.buses.get(publisher)
        if bus is None:
            bus = self.buses[publisher] = Bus(publisher, "stand-in", BusMetrics(CollectorRegistry()))
            await bus.start(self.url, self.passwords.get(publisher))
            await bus.wait_connected(10)
        await bus.publish(event)

    async def close(self) -> None:
        for bus in self.buses.values():
            await bus.close()
        self.buses.clear()
