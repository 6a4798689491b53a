"""One bad event never stops the ones behind it: bounded tries, then a dead letter with the reason,
kept in CC_DEAD_LETTERS for an administrator to replay; transient failures are retried without limit."""

from __future__ import annotations

import os
from typing import ClassVar

import pytest
from bus_testing import QueueTouched, connected_bus, eventually, metric

from callisto_devkit.servers import NatsServer
from callisto_protocol import Envelope, Event
from callisto_runtime import DurableConsumer
from callisto_runtime.dead_letters import DeadLetterStore

pytestmark = pytest.mark.integration

POISON = 4


class Counted(Event):
    """A stream event only test-svc publishes."""

    message_type: ClassVar[str] = "test.counted"
    subject: ClassVar[str] = "cc.queue.{queue_id}.test-counted"
    publisher: ClassVar[str] = "test-svc"
    queue_id: str
    n: int


def queue() -> str:
    return f"q{os.urandom(4).hex()}"


async def test_a_poison_event_becomes_a_dead_letter_and_the_rest_are_handled(nats_server: NatsServer) -> None:
    q = queue()
    handled: list[int] = []
    broken = True

    async def handler(event: Event, env: Envelope) -> None:
        assert isinstance(event, QueueTouched)
        if event.n == POISON and broken:
            raise ValueError("invalid byte sequence for encoding UTF8: 0x00")
        handled.append(event.n)

    async with connected_bus(nats_server.url) as bus:
        consumer = DurableConsumer(
            bus, f"dl-one-{q}", f"cc.queue.{q}.>", handler, retry_delay_s=0.05, max_failures=3
        )
        consumer.start()
        for n in range(10):
            await bus.publish(QueueTouched(queue_id=q, n=n))
        await eventually(lambda: consumer.dead_lettered == 1, what="the poison given up")
        await eventually(lambda: len(handled) == 9, what="every other event handled")
        assert sorted(handled) == [n for n in range(10) if n != POISON]
        assert metric(bus, "callisto_bus_dead_letters_total", consumer=f"dl-one-{q}", cause="failed") == 1

        store = DeadLetterStore(bus)
        letters = [letter for letter in await store.list(1000) if letter.consumer == f"dl-one-{q}"]
        assert len(letters) == 1
        letter = letters[0]
        assert letter.cause == "failed" and letter.deliveries == 3
        assert "0x00" in letter.reason and letter.original_type == "test.queue-touched"
        assert f'"n":{POISON}' in letter.body

        broken = False  # the cause is fixed: the administrator replays it, and it is gone
        replayed = await store.replay(letter.sequence)
        assert replayed.replayed and replayed.removed
        assert sorted(handled) == list(range(10))
        assert all(other.sequence != letter.sequence for other in await store.list(1000))
        await consumer.stop()


async def test_a_failing_batch_is_split_so_one_event_cannot_hold_the_others(nats_server: NatsServer) -> None:
    q = queue()
    stored: list[int] = []
    calls = 0

    async def store_batch(batch: list[tuple[Event, Envelope]]) -> None:
        nonlocal calls
        calls += 1
        numbers = [event.n for event, _ in batch if isinstance(event, QueueTouched)]
        if POISON in numbers:  # like one transaction refused by PostgreSQL
            raise ValueError("value too long for type character varying(64)")
        stored.extend(numbers)

    async with connected_bus(nats_server.url) as bus:
        for n in range(40):
            await bus.publish(QueueTouched(queue_id=q, n=n))
        await bus.outbox.wait_empty(5)
        consumer = DurableConsumer(
            bus, f"dl-batch-{q}", f"cc.queue.{q}.>", batch_handler=store_batch, batch=40,
            retry_delay_s=0.05, max_failures=2,
        )  # fmt: skip
        consumer.start()
        await eventually(lambda: consumer.dead_lettered == 1, what="the poison given up")
        assert sorted(stored) == [n for n in range(40) if n != POISON]
        assert len(stored) == len(set(stored))  # nothing stored twice
        await consumer.stop()


async def test_transient_failures_are_retried_without_limit(nats_server: NatsServer) -> None:
    q = queue()
    tries = 0
    handled: list[int] = []

    async def handler(event: Event, env: Envelope) -> None:
        nonlocal tries
        tries += 1
        if tries <= 8:  # PostgreSQL away for a while
            raise ConnectionRefusedError("connection refused")
        assert isinstance(event, QueueTouched)
        handled.append(event.n)

    async with connected_bus(nats_server.url) as bus:
        consumer = DurableConsumer(
            bus, f"dl-transient-{q}", f"cc.queue.{q}.>", handler, retry_delay_s=0.02, max_failures=2
        )
        consumer.start()
        await bus.publish(QueueTouched(queue_id=q, n=1))
        await eventually(lambda: handled == [1], what="handled once the dependency is back")
        assert consumer.dead_lettered == 0
        await consumer.stop()


async def test_events_from_a_service_that_does_not_publish_them_are_refused(nats_server: NatsServer) -> None:
    q = queue()
    handled: list[int] = []
    live: list[int] = []

    async def handler(event: Event, env: Envelope) -> None:
        assert isinstance(event, Counted)
        handled.append(event.n)

    async def on_live(event: Counted, env: Envelope) -> None:
        live.append(event.n)

    async with (
        connected_bus(nats_server.url) as owner,
        connected_bus(nats_server.url, service="intruder") as other,
    ):
        consumer = DurableConsumer(owner, f"dl-origin-{q}", f"cc.queue.{q}.>", handler, retry_delay_s=0.05)
        consumer.start()
        await owner.subscribe(Counted, on_live, queue_id=q)
        await owner.nc.flush()
        await other.publish(Counted(queue_id=q, n=666))  # forged: only test-svc publishes these
        await owner.publish(Counted(queue_id=q, n=1))
        await eventually(lambda: handled == [1] and live == [1], what="the owner's event handled")
        await eventually(lambda: consumer.dead_lettered == 1, what="the forged one given up")
        assert (
            metric(
                owner,
                "callisto_bus_rejected_total",
                message_type="test.counted",
                error_id="wrong-origin",
            )
            >= 2
        )
        letters = [x for x in await DeadLetterStore(owner).list(1000) if x.consumer == f"dl-origin-{q}"]
        assert [x.cause for x in letters] == ["wrong-origin"] and "'intruder'" in letters[0].reason
        await consumer.stop()
