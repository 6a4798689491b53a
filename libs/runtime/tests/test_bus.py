"""The typed bus against a real NATS server."""

from __future__ import annotations

import asyncio

import nats
import pytest
from bus_testing import Noted, Ping, Pong, QueueTouched, connected_bus, eventually, metric

from callisto_devkit.processes import free_port
from callisto_devkit.servers import NatsServer
from callisto_protocol import Envelope, ErrorReply
from callisto_protocol.streams import EVENTS_STREAM
from callisto_runtime import NoResponders, RemoteError, RequestTimeout
from callisto_runtime.errors import NotFound

pytestmark = pytest.mark.integration


async def test_typed_publish_subscribe_with_envelope(nats_server: NatsServer) -> None:
    got: list[tuple[Noted, Envelope]] = []

    async def handler(event: Noted, env: Envelope) -> None:
        got.append((event, env))

    async with connected_bus(nats_server.url, instance="a") as a, connected_bus(nats_server.url) as b:
        await b.subscribe(Noted, handler, item="one")
        await b.nc.flush()
        await a.publish(Noted(item="one", n=1), correlation_id="call-9")
        await a.publish(Noted(item="two", n=2))  # another subject: not delivered
        await eventually(lambda: len(got) == 1)
        await asyncio.sleep(0.1)
    event, env = got[0]
    assert event == Noted(item="one", n=1)
    assert (env.origin_service, env.origin_instance, env.correlation_id) == ("test-svc", "a", "call-9")
    assert len(got) == 1


async def test_request_reply_and_errors(nats_server: NatsServer) -> None:
    async def handler(command: Ping, env: Envelope) -> Pong:
        if command.n < 0:
            raise NotFound("no such n", {"n": command.n})
        if command.n == 13:
            raise RuntimeError("unlucky")
        if command.n == 99:
            await asyncio.sleep(1.0)
        return Pong(n=command.n + 1)

    async with connected_bus(nats_server.url) as bus:
        with pytest.raises(NoResponders):
            await bus.request(Ping(n=1), timeout=1)
        await bus.serve(Ping, handler, permission=None)
        await bus.nc.flush()
        assert await bus.call(Ping(n=1), Pong) == Pong(n=2)
        with pytest.raises(RemoteError) as caught:
            await bus.request(Ping(n=-5))
        assert (caught.value.error_id, caught.value.details) == ("not-found", {"n": -5})
        with pytest.raises(RemoteError) as unexpected:
            await bus.request(Ping(n=13))
        assert unexpected.value.error_id == "internal-error"
        with pytest.raises(RequestTimeout):
            await bus.request(Ping(n=99), timeout=0.2)
        # the handler keeps serving after all of that
        assert await bus.call(Ping(n=41), Pong) == Pong(n=42)
        assert metric(bus, "callisto_bus_handler_errors_total", message_type="test.ping") == 1


async def test_malformed_command_gets_an_error_reply_and_service_goes_on(nats_server: NatsServer) -> None:
    async def handler(command: Ping, env: Envelope) -> Pong:
        return Pong(n=command.n)

    async with connected_bus(nats_server.url) as bus:
        await bus.serve(Ping, handler, permission=None)
        raw = await nats.connect(nats_server.url)
        try:
            good_headers = bus.headers(Ping(n=1))
            cases = [
                (b'{"n": "many"}', good_headers, "invalid-message"),
                (b"\xff\xfe", good_headers, "invalid-message"),
                (b'{"n": 1}', {}, "invalid-envelope"),
                (b'{"n": 1}', {"Cc-Message-Id": "x"}, "invalid-envelope"),
            ]
            for body, headers, error_id in cases:
                reply = await raw.request(Ping.subject, body, headers=headers or None, timeout=2)
                assert reply.headers and reply.headers["Cc-Message-Type"] == "error"
                assert ErrorReply.decode(reply.data).error_id == error_id
        finally:
            await raw.close()
        assert await bus.call(Ping(n=7), Pong) == Pong(n=7)
        assert (
            metric(bus, "callisto_bus_rejected_total", message_type="test.ping", error_id="invalid-message")
            == 2
        )


async def test_malformed_event_is_counted_and_dropped(nats_server: NatsServer) -> None:
    got: list[Noted] = []

    async def handler(event: Noted, env: Envelope) -> None:
        got.append(event)

    async with connected_bus(nats_server.url) as bus:
        await bus.subscribe(Noted, handler)
        await bus.nc.flush()
        headers = bus.headers(Noted(item="x"))
        await bus.nc.publish("cc.test.x.noted", b'{"item": 5}', headers=headers)
        await bus.nc.publish("cc.test.x.noted", b'{"item": "x"}')  # no envelope
        await bus.publish(Noted(item="x", n=3))
        await eventually(lambda: len(got) == 1)
        assert (
            metric(bus, "callisto_bus_rejected_total", message_type="test.noted", error_id="invalid-message")
            == 1
        )
        assert (
            metric(bus, "callisto_bus_rejected_total", message_type="test.noted", error_id="invalid-envelope")
            == 1
        )
    assert got == [Noted(item="x", n=3)]


async def test_queue_group_shares_commands_between_instances(nats_server: NatsServer) -> None:
    served: dict[str, int] = {"a": 0, "b": 0}

    def handler_for(name: str):  # type: ignore[no-untyped-def]
        async def handler(command: Ping, env: Envelope) -> Pong:
            served[name] += 1
            return Pong(n=command.n)

        return handler

    async with (
        connected_bus(nats_server.url, instance="a") as a,
        connected_bus(nats_server.url, instance="b") as b,
        connected_bus(nats_server.url, service="caller") as caller,
    ):
        await a.serve(Ping, handler_for("a"), permission=None)
        await b.serve(Ping, handler_for("b"), permission=None)
        await a.nc.flush()
        await b.nc.flush()
        for n in range(200):
            await caller.call(Ping(n=n), Pong)
    assert served["a"] + served["b"] == 200
    assert served["a"] > 20 and served["b"] > 20


async def test_stream_events_are_acknowledged_and_deduplicated(nats_server: NatsServer) -> None:
    async with connected_bus(nats_server.url) as bus:
        js = bus.nc.jetstream()
        before = (await js.stream_info(EVENTS_STREAM)).state.messages
        ids = [await bus.publish(QueueTouched(queue_id="q1", n=n)) for n in range(50)]
        assert await bus.outbox.wait_empty(10)
        # the same message id sent again is dropped by the server
        again = {**bus.headers(QueueTouched(queue_id="q1", n=0)), "Nats-Msg-Id": ids[0]}
        await js.publish("cc.queue.q1.test-touched", QueueTouched(queue_id="q1", n=0).encode(), headers=again)
        after = (await js.stream_info(EVENTS_STREAM)).state.messages
    assert after - before == 50


async def test_a_comma_separated_url_is_a_cluster_whose_seeds_may_be_down(nats_server: NatsServer) -> None:
    """A Kubernetes or pair deployment names its NATS servers in one setting: any one answering will do."""
    seeds = f"nats://127.0.0.1:{free_port()}, {nats_server.url}"
    async with connected_bus(seeds) as bus:
        assert bus.nc.connected_url is not None and bus.nc.connected_url.port == nats_server.port
