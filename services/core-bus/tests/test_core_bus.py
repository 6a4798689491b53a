"""core-bus against a real NATS server, with real service instances beating and draining."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from core_bus_testing import BEAT, core_bus, eventually
from prometheus_client import CollectorRegistry

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.publishers import Publishers
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer
from callisto_protocol import Envelope
from callisto_protocol.agents import AgentState, AgentStateChanged
from callisto_protocol.calls import CallState, CallStateChanged
from callisto_protocol.control import DrainInstance, DrainStarted
from callisto_protocol.lists import AgentList, AgentListDelta, AgentListSnapshot, GetAgentList
from callisto_protocol.registry import ServiceGone, ServiceRegistered
from callisto_runtime import Bus, RemoteError, Service, ServiceSettings
from callisto_runtime.metrics import BusMetrics

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def instance(nats_url: str, name: str = "probe") -> AsyncIterator[tuple[httpx.AsyncClient, Service]]:
    port = free_port()
    service = Service(
        name, "9.9.9", ServiceSettings(nats_url=nats_url, http_port=port, heartbeat_interval_s=BEAT)
    )
    async with serve_in_process(service.create_app(), port) as base, httpx.AsyncClient(base_url=base) as http:
        yield http, service


@contextlib.asynccontextmanager
async def listener(nats_url: str) -> AsyncIterator[Bus]:
    bus = Bus("tester", "t1", BusMetrics(CollectorRegistry()))
    await bus.start(nats_url)
    await bus.wait_connected(10)
    try:
        yield bus
    finally:
        await bus.close()


async def instances(http: httpx.AsyncClient) -> dict[str, dict[str, object]]:
    return {i["instance"]: i for i in (await http.get("/api/v1/services")).json()}


async def test_registry_lists_instances_and_marks_the_silent_gone(
    private_nats: NatsServer, token_issuer: TestIssuer
) -> None:
    registered: list[ServiceRegistered] = []
    gone: list[ServiceGone] = []

    async def on_registered(event: ServiceRegistered, _: Envelope) -> None:
        registered.append(event)

    async def on_gone(event: ServiceGone, _: Envelope) -> None:
        gone.append(event)

    async with core_bus(private_nats.url, token_issuer) as (http, cb), listener(private_nats.url) as bus:
        await bus.subscribe(ServiceRegistered, on_registered)
        await bus.subscribe(ServiceGone, on_gone)
        async with instance(private_nats.url) as (_, probe):
            await eventually(lambda: any(e.instance == probe.instance for e in registered), what="registered")
            listed = await instances(http)
            assert listed[cb.instance]["service"] == "core-bus"  # the registry lists itself
            entry = listed[probe.instance]
            assert (entry["service"], entry["version"], entry["state"], entry["ready"]) == (
                "probe",
                "9.9.9",
                "alive",
                True,
            )
            assert (await http.get("/api/v1/health")).json()["status"] == "ok"
            one = await http.get(f"/api/v1/services/probe/{probe.instance}")
            assert one.json()["http_url"] == probe.http_url
        # the probe stopped: three missed beats later it is gone
        await eventually(lambda: any(e.instance == probe.instance for e in gone), timeout=5, what="gone")
        assert (await instances(http))[probe.instance]["state"] == "gone"
        health = (await http.get("/api/v1/health")).json()
        probe_health = next(s for s in health["services"] if s["service"] == "probe")
        assert (health["status"], probe_health["status"], probe_health["gone"]) == ("degraded", "down", 1)
        metrics = (await http.get("/metrics")).text
        assert 'callisto_registry_instances{service="probe",state="gone"} 1.0' in metrics
        assert 'callisto_registry_service_up{service="core-bus"} 1.0' in metrics


async def test_drain_an_instance_through_the_control_api(
    private_nats: NatsServer, token_issuer: TestIssuer
) -> None:
    async with (
        core_bus(private_nats.url, token_issuer) as (http, _),
        instance(private_nats.url) as (probe_http, probe),
    ):
        await eventually(lambda: _listed(http, probe.instance), what="probe listed")
        reply = await http.post(f"/api/v1/services/probe/{probe.instance}/drain", json={"reason": "upgrade"})
        assert reply.status_code == 202, reply.text
        assert reply.json() == {"service": "probe", "instance": probe.instance, "already_draining": False}
        assert probe.draining
        ready = await probe_http.get("/readyz")
        assert (ready.status_code, ready.json()["status"]) == (503, "draining")

        async def shows_draining() -> bool:
            return bool((await instances(http))[probe.instance]["draining"])

        await eventually(shows_draining, what="registry shows draining")
        again = await http.post(f"/api/v1/services/probe/{probe.instance}/drain")
        assert again.json()["already_draining"] is True

        unknown = await http.post("/api/v1/services/probe/nobody/drain")
        assert (unknown.status_code, unknown.json()["error_id"]) == (404, "unknown-instance")
        bad = await http.post("/api/v1/services/probe/a.b/drain")
        assert (bad.status_code, bad.json()["error_id"]) == (422, "invalid-request")
        assert (await http.get("/api/v1/services/NOT_A_NAME")).status_code == 422
        assert (await http.get("/api/v1/services/nobody")).json()["error_id"] == "unknown-service"


async def _listed(http: httpx.AsyncClient, instance_id: str) -> bool:
    return instance_id in await instances(http)


async def test_draining_a_gone_instance_is_a_conflict(
    private_nats: NatsServer, token_issuer: TestIssuer
) -> None:
    async with core_bus(private_nats.url, token_issuer) as (http, _):
        async with instance(private_nats.url) as (_, probe):
            await eventually(lambda: _listed(http, probe.instance), what="listed")

        async def is_gone() -> bool:
            return (await instances(http))[probe.instance]["state"] == "gone"

        await eventually(is_gone, timeout=5, what="gone")
        conflict = await http.post(f"/api/v1/services/probe/{probe.instance}/drain")
        assert (conflict.status_code, conflict.json()["error_id"]) == (409, "instance-gone")


async def test_agent_and_call_lists_are_broadcast_and_rebuilt_after_a_restart(
    private_nats: NatsServer, token_issuer: TestIssuer
) -> None:
    deltas: list[AgentListDelta] = []
    snapshots: list[AgentListSnapshot] = []

    async def on_delta(event: AgentListDelta, _: Envelope) -> None:
        deltas.append(event)

    async def on_snapshot(event: AgentListSnapshot, _: Envelope) -> None:
        snapshots.append(event)

    now = datetime.now(UTC)
    stand_ins = Publishers(private_nats.url)  # queue-manager's and call-manager's events, from them
    async with listener(private_nats.url) as bus:
        await bus.subscribe(AgentListDelta, on_delta)
        await bus.subscribe(AgentListSnapshot, on_snapshot)
        async with core_bus(private_nats.url, token_issuer) as (http, _):
            await stand_ins.publish(
                AgentStateChanged(agent_id="a1", seq=1, state=AgentState.READY, since=now, name="Ann")
            )
            await stand_ins.publish(
                AgentStateChanged(agent_id="a2", seq=1, state=AgentState.NOT_READY, since=now)
            )
            await stand_ins.publish(
                AgentStateChanged(agent_id="a1", seq=2, state=AgentState.ON_CALL, since=now, call_id="c1")
            )
            await stand_ins.publish(
                CallStateChanged(
                    call_id="c1",
                    seq=1,
                    state=CallState.CONNECTED,
                    since=now,
                    agent_id="a1",
                    caller="+15550001",
                )
            )
            await stand_ins.publish(CallStateChanged(call_id="c2", seq=1, state=CallState.QUEUED, since=now))
            await stand_ins.publish(CallStateChanged(call_id="c2", seq=2, state=CallState.ENDED, since=now))

            async def agents_listed() -> bool:
                body = (await http.get("/api/v1/agents")).json()
                return {a["agent_id"]: a["state"] for a in body["agents"]} == {
                    "a1": "on_call",
                    "a2": "not_ready",
                }

            await eventually(agents_listed, what="agent list")
            calls = (await http.get("/api/v1/calls")).json()["calls"]
            assert [(c["call_id"], c["state"], c["caller"]) for c in calls] == [
                ("c1", "connected", "+15550001")
            ]
            reply = await bus.call(
                GetAgentList(), AgentList, token=token_issuer.token("core-bus.agents.read")
            )
            assert {a.agent_id for a in reply.agents} == {"a1", "a2"}
            await eventually(lambda: bool(snapshots), what="a snapshot broadcast")
            assert [d.seq for d in deltas] == list(range(1, len(deltas) + 1))
            merged: dict[str, str] = {}
            for d in deltas:
                merged.update({e.agent_id: e.state.value for e in d.upserted})
            assert merged == {"a1": "on_call", "a2": "not_ready"}
        # a new core-bus rebuilds both lists from the event stream
        async with core_bus(private_nats.url, token_issuer) as (http, _):
            await eventually(agents_listed, what="agent list rebuilt")
            await stand_ins.close()
            calls = (await http.get("/api/v1/calls")).json()["calls"]
            assert [c["call_id"] for c in calls] == ["c1"]


async def test_the_control_api_and_bus_commands_need_the_right_token(
    private_nats: NatsServer, token_issuer: TestIssuer
) -> None:
    async with (
        core_bus(private_nats.url, token_issuer, "core-bus.agents.read") as (http, cb),
        listener(private_nats.url) as bus,
    ):
        for path in ("/healthz", "/readyz", "/metrics"):  # open, for probes and Prometheus
            assert (await http.get(path, headers={"Authorization": ""})).status_code == 200
        anonymous = await http.get("/api/v1/services", headers={"Authorization": ""})
        assert (anonymous.status_code, anonymous.json()["error_id"]) == (401, "token-invalid")
        forged = await http.get("/api/v1/services", headers={"Authorization": "Bearer not.a.jwt"})
        assert forged.status_code == 401
        expired = await http.get("/api/v1/services", headers=token_issuer.bearer("#", ttl_s=-60))
        assert (expired.status_code, expired.json()["error_id"]) == (401, "token-expired")
        lacking = await http.get("/api/v1/services")  # this client may read agents only
        assert (lacking.status_code, lacking.json()["error_id"]) == (403, "permission-denied")
        assert (await http.get("/api/v1/agents")).status_code == 200
        drain = await http.post(f"/api/v1/services/core-bus/{cb.instance}/drain")
        assert drain.status_code == 403 and not cb.draining
        only_probe = token_issuer.bearer("core-bus.services.probe.drain")
        assert (
            await http.post(f"/api/v1/services/core-bus/{cb.instance}/drain", headers=only_probe)
        ).status_code == 403

        with pytest.raises(RemoteError) as refused:
            await bus.call(GetAgentList(), AgentList)  # no token at all
        assert refused.value.error_id == "token-invalid"
        with pytest.raises(RemoteError) as denied:
            await bus.call(GetAgentList(), AgentList, token=token_issuer.token("core-bus.calls.read"))
        assert denied.value.error_id == "permission-denied"
        with pytest.raises(RemoteError) as drained:  # an instance obeys only a token that may drain it
            await bus.call(
                DrainInstance(service="core-bus", instance=cb.instance),
                DrainStarted,
                token=token_issuer.token("probe.instance.drain"),
            )
        assert drained.value.error_id == "permission-denied" and not cb.draining
