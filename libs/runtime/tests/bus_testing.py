from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import ClassVar

from prometheus_client import CollectorRegistry

from callisto_protocol import Command, Event, Reply
from callisto_runtime import Bus
from callisto_runtime.metrics import BusMetrics


class Ping(Command):
    message_type: ClassVar[str] = "test.ping"
    subject: ClassVar[str] = "cc.rpc.test-svc.ping"

    class Pong(Reply):
        message_type: ClassVar[str] = "test.pong"
        n: int

    reply_type: ClassVar[type[Reply]] = Pong
    n: int


Pong = Ping.Pong


class Noted(Event):
    """A non-stream event."""

    message_type: ClassVar[str] = "test.noted"
    subject: ClassVar[str] = "cc.test.{item}.noted"
    item: str
    n: int = 0


class QueueTouched(Event):
    """A stream event (cc.queue.> is kept by CC_EVENTS)."""

    message_type: ClassVar[str] = "test.queue-touched"
    subject: ClassVar[str] = "cc.queue.{queue_id}.test-touched"
    queue_id: str
    n: int


def metric(bus: Bus, name: str, **labels: str) -> float:
    registry: CollectorRegistry = bus.metrics.registry
    return registry.get_sample_value(name, labels) or 0.0


@contextlib.asynccontextmanager
async def connected_bus(
    url: str, service: str = "test-svc", instance: str = "i1", outbox_limit: int = 10_000
) -> AsyncIterator[Bus]:
    registry = CollectorRegistry()
    bus = Bus(service, instance, BusMetrics(registry), outbox_limit=outbox_limit)
    await bus.start(url)
    await bus.wait_connected(10)
    try:
        yield bus
    finally:
        for consumer in list(bus.consumers.values()):  # a failed test never leaves one running
            await consumer.stop()
        await bus.close(flush_timeout=2)


async def eventually(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{what} not met within {timeout} s")
