"""A service through a NATS restart, and durable consumers with explicit acknowledgement."""

from __future__ import annotations

import asyncio

import httpx
import nats
import pytest
from bus_testing import QueueTouched, connected_bus, eventually, metric
from pydantic_settings import SettingsConfigDict

from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer
from callisto_protocol import Envelope, Event
from callisto_protocol.registry import ServiceHeartbeat
from callisto_protocol.streams import LEASES_BUCKET
from callisto_runtime import DurableConsumer, PublishBufferFull, Service, ServiceSettings
from callisto_runtime.kv import ensure_bucket

pytestmark = pytest.mark.integration


class ProbeSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CALLISTO_PROBE_", extra="ignore", frozen=True)


def probe(nats_url: str, port: int, **overrides: object) -> Service:
    settings = ProbeSettings(nats_url=nats_url, http_port=port, heartbeat_interval_s=0.2, **overrides)  # type: ignore[arg-type]
    return Service("probe", "0.0.1", settings)


@pytest.mark.fault
@pytest.mark.slow
async def test_nats_restart_readiness_reregistration_and_buffered_events(private_nats: NatsServer) -> None:
    port = free_port()
    service = probe(private_nats.url, port)
    app = service.create_app()
    seen: list[int] = []

    async def store(event: Event, env: Envelope) -> None:
        assert isinstance(event, QueueTouched)
        seen.append(event.n)

    async with serve_in_process(app, port) as base, httpx.AsyncClient(base_url=base) as http:
        await eventually(lambda: service.bus.connected, what="connected")
        assert (await http.get("/readyz")).status_code == 200
        consumer = DurableConsumer(service.bus, "probe-history", "cc.queue.>", store)
        consumer.start()

        private_nats.stop()
        await eventually(lambda: not service.bus.connected, what="disconnect noticed")
        down = await http.get("/readyz")
        assert down.status_code == 503
        assert down.json()["checks"]["nats"] is False
        assert (await http.get("/healthz")).status_code == 200  # alive, only not ready
        for n in range(100):  # accepted during the outage
            await service.bus.publish(QueueTouched(queue_id="q1", n=n))
        assert len(service.bus.outbox) == 100

        private_nats.start()
        await eventually(lambda: service.bus.connected, timeout=15, what="reconnected")
        assert (await http.get("/readyz")).status_code == 200
        await eventually(lambda: len(seen) >= 100, timeout=15, what="events delivered after the outage")
        assert sorted(seen) == list(range(100))  # nothing lost, nothing twice

        beats: list[ServiceHeartbeat] = []
        watcher = await nats.connect(private_nats.url)
        try:

            async def on_beat(msg: nats.aio.msg.Msg) -> None:
                beats.append(ServiceHeartbeat.decode(msg.data))

            await watcher.subscribe(ServiceHeartbeat.subscription(service="probe"), cb=on_beat)
            await eventually(lambda: bool(beats), what="heartbeats after the restart")
        finally:
            await watcher.close()
        assert beats[-1].ready and beats[-1].instance == service.instance
        assert metric(service.bus, "callisto_bus_reconnects_total") >= 1
        await consumer.stop()


@pytest.mark.fault
async def test_outbox_overflow_is_refused_and_counted(private_nats: NatsServer) -> None:
    async with connected_bus(private_nats.url, outbox_limit=10) as bus:
        private_nats.stop()
        await eventually(lambda: not bus.connected, what="disconnect noticed")
        for n in range(10):
            await bus.publish(QueueTouched(queue_id="q", n=n))
        with pytest.raises(PublishBufferFull):
            await bus.publish(QueueTouched(queue_id="q", n=10))
        assert metric(bus, "callisto_bus_publish_dropped_total", reason="outbox-full") == 1
        private_nats.start()
        await eventually(lambda: bus.connected, timeout=15, what="reconnected")
        assert await bus.outbox.wait_empty(10)


async def test_durable_consumer_redelivers_until_the_work_is_stored(nats_server: NatsServer) -> None:
    attempts: dict[int, int] = {}
    stored: list[int] = []

    async def flaky_store(event: Event, env: Envelope) -> None:
        assert isinstance(event, QueueTouched)
        attempts[event.n] = attempts.get(event.n, 0) + 1
        if event.n % 3 == 0 and attempts[event.n] == 1:
            raise ConnectionError("database away")
        stored.append(event.n)

    async with connected_bus(nats_server.url) as bus:
        queue = f"redeliver{id(attempts)}"
        consumer = DurableConsumer(
            bus, f"durable-{queue}", f"cc.queue.{queue}.>", flaky_store, retry_delay_s=0.1
        )
        consumer.start()
        for n in range(12):
            await bus.publish(QueueTouched(queue_id=queue, n=n))
        await eventually(lambda: len(stored) == 12, what="every event stored")
        await consumer.stop()
        # a new consumer with the same durable name resumes after what was acknowledged
        for n in range(12, 15):
            await bus.publish(QueueTouched(queue_id=queue, n=n))
        resumed = DurableConsumer(
            bus, f"durable-{queue}", f"cc.queue.{queue}.>", flaky_store, retry_delay_s=0.1
        )
        resumed.start()
        await eventually(lambda: len(stored) == 15, what="resumed")
        await asyncio.sleep(0.3)
        await resumed.stop()
    assert sorted(stored) == list(range(15))
    assert attempts[0] == 2 and attempts[1] == 1


async def test_malformed_stream_message_is_terminated_not_redelivered(nats_server: NatsServer) -> None:
    stored: list[Event] = []

    async def store(event: Event, env: Envelope) -> None:
        stored.append(event)

    async with connected_bus(nats_server.url) as bus:
        js = bus.nc.jetstream()
        await js.publish("cc.queue.badq.x", b"{}", headers={"Cc-Message-Type": "test.queue-touched"})
        await bus.publish(QueueTouched(queue_id="badq", n=1))
        consumer = DurableConsumer(bus, "durable-badq", "cc.queue.badq.>", store)
        consumer.start()
        await eventually(lambda: len(stored) == 1, what="the good event")
        await asyncio.sleep(0.5)
        await consumer.stop()
        assert (
            metric(
                bus,
                "callisto_bus_rejected_total",
                message_type="test.queue-touched",
                error_id="invalid-envelope",
            )
            == 1
        )
    assert stored == [QueueTouched(queue_id="badq", n=1)]


async def test_a_singleton_counts_with_the_lease_buckets_own_ttl(private_nats: NatsServer) -> None:
    """The bucket was made by an instance with a shorter lease TTL: its keys expire by that TTL, so a
    holder counting with its own longer one would believe it leads after a standby took over."""
    nc = await nats.connect(private_nats.url)
    try:
        await ensure_bucket(nc, LEASES_BUCKET, ttl_s=0.6)
    finally:
        await nc.close()
    port = free_port()
    settings = ProbeSettings(nats_url=private_nats.url, http_port=port, lease_ttl_s=3.0)  # type: ignore[arg-type]
    service = Service("probe", "0.0.1", settings, singleton=True)
    async with serve_in_process(service.create_app(), port):
        await eventually(lambda: service.is_active, what="the only instance leads")
        assert service.lease is not None and service.lease.ttl_s == pytest.approx(0.6)
        assert service.lease.renew_every_s < 0.6 - service.lease.margin_s
