"""The closed bus: every service logs in to NATS as itself and may publish only the events it is the
publisher of, read only the commands addressed to it and only its own replies. Reproduced before:
with an open NATS anyone could publish a RecordingAvailable that put their URL on call cards."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import nats
import nats.errors
import pytest
from prometheus_client import CollectorRegistry

from callisto_devkit.servers import NatsServer
from callisto_protocol import Envelope
from callisto_protocol.contacts import ContactMatch, LookupContact
from callisto_protocol.recordings import RecordingAvailable
from callisto_runtime import Bus, DurableConsumer
from callisto_runtime.metrics import BusMetrics

pytestmark = pytest.mark.integration
SERVICES = ("helpdesk", "recording", "call-manager")


@pytest.fixture
def closed_nats(tmp_path):  # type: ignore[no-untyped-def]
    server = NatsServer.closed(SERVICES, store_dir=tmp_path / "nats").start()
    yield server
    server.stop()


@contextlib.asynccontextmanager
async def service_bus(server: NatsServer, service: str, password: str | None = None) -> AsyncIterator[Bus]:
    bus = Bus(service, f"{service}-1", BusMetrics(CollectorRegistry()))
    await bus.start(server.url, password if password is not None else server.password(service))
    await bus.wait_connected(10)
    try:
        yield bus
    finally:
        await bus.close(flush_timeout=2)


def recording(url: str) -> RecordingAvailable:
    return RecordingAvailable(recording_id="r1", call_id="c1", url=url, duration_s=12.5)


async def test_only_the_publisher_of_an_event_can_publish_it(closed_nats: NatsServer) -> None:
    seen: list[str] = []

    async def on_recording(event: RecordingAvailable, env: Envelope) -> None:
        seen.append(event.url)

    async with (
        service_bus(closed_nats, "helpdesk") as desk,
        service_bus(closed_nats, "recording") as rec,
    ):
        await desk.subscribe(RecordingAvailable, on_recording)
        await desk.nc.flush()
        cards = DurableConsumer(desk, "access-cards", "cc.recording.>", lambda e, _: _note(e, seen))
        cards.start()
        forged = desk.publish_acknowledged(recording("https://attacker.example/x.mp3"))
        with pytest.raises(nats.errors.TimeoutError):
            await forged  # refused by NATS: the stream never stores nor acknowledges it
        dropped = desk.metrics.registry.get_sample_value(
            "callisto_bus_publish_dropped_total", {"reason": "permission-denied"}
        )
        assert dropped == 1  # and the service says so
        await rec.publish(recording("https://callisto.example/r1.mp3"))
        async with asyncio.timeout(10):
            while seen.count("https://callisto.example/r1.mp3") < 2:  # live and durable
                await asyncio.sleep(0.05)
        await cards.stop()
    assert "https://attacker.example/x.mp3" not in seen


async def _note(event: object, seen: list[str]) -> None:
    assert isinstance(event, RecordingAvailable)
    seen.append(event.url)


async def test_commands_and_replies_stay_with_their_service(closed_nats: NatsServer) -> None:
    async def lookup(command: LookupContact, env: Envelope) -> ContactMatch:
        return ContactMatch(number=command.number, contact=None)

    async with (
        service_bus(closed_nats, "helpdesk") as desk,
        service_bus(closed_nats, "call-manager") as calls,
    ):
        await desk.serve(LookupContact, lookup, permission=None)
        await desk.nc.flush()  # the server has the subscription before call-manager asks
        answer = await calls.call(LookupContact(number="+4930123"), ContactMatch)
        assert answer.number == "+4930123"  # request, reply to call-manager's own inbox

        violations: list[str] = []

        async def error_cb(exc: Exception) -> None:
            violations.append(str(exc))

        sniffer = await nats.connect(
            closed_nats.url, user="helpdesk", password=closed_nats.password("helpdesk"), error_cb=error_cb
        )
        try:
            await sniffer.subscribe("cc.rpc.call-manager.>")  # another service's commands
            await sniffer.subscribe("_INBOX_call-manager.>")  # another service's replies
            await sniffer.flush()
            async with asyncio.timeout(5):
                while len(violations) < 2:
                    await asyncio.sleep(0.05)
        finally:
            await sniffer.close()
        assert all("permissions violation for subscription" in v.lower() for v in violations)


async def test_nobody_else_gets_in(closed_nats: NatsServer) -> None:
    for user, password in ((None, None), ("helpdesk", "guessed"), ("intruder", "x")):
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            await nats.connect(
                closed_nats.url, user=user, password=password, allow_reconnect=False, connect_timeout=2
            )
