"""Two call-manager processes on one host (same SIP port), one Redis, one rtpengine: only the lease
holder binds SIP. Kill the active with a call connected and a caller in the IVR: the standby binds the
port, the connected call keeps its audio and ends cleanly by the agent's BYE, the IVR caller goes on
to the flow's queue and reaches an agent, new INVITEs are answered. Everything SIP is sipp; media
flows through the real rtpengine."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis.asyncio as redis
import yaml
from cm_testing import PERMISSIONS, PROMPTS, register_with_sipp

from callisto_call_manager.rtpengine import MediaRelay
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import ManagedProcess, free_media_port, free_port
from callisto_devkit.pytest_plugin import serve_in_process, spawn_service
from callisto_devkit.servers import NatsServer, RedisServer, RtpEngine
from callisto_devkit.sipp import SippRun, scenario, start_sipp
from callisto_queue_manager.app import build as build_queue_manager
from callisto_queue_manager.settings import QueueManagerSettings
from callisto_runtime import Mode

pytestmark = [pytest.mark.integration, pytest.mark.fault, pytest.mark.slow]
LEASE_TTL = 1.5
PLAN = {
    "trunks": [{"name": "test-trunk", "sources": ["127.0.0.1"]}],
    "numbers": {"500": "main"},
    "prompts": {
        "long-welcome": "Welcome to the city water utility. This greeting is long on purpose, so that "
        "the caller is still listening to it when the active call manager is killed. Please hold on.",
    },
    "flows": {
        "main": {
            "start": "hello",
            "steps": {
                "hello": {"play": "long-welcome", "next": "general"},
                "general": {"queue": "general", "announce": False},
            },
        }
    },
}


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> float:
    """Wait for ``check``; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if await check():
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"not in {timeout} s: {what}")


@dataclass
class Instance:
    name: str
    process: ManagedProcess
    http: httpx.AsyncClient

    async def role(self) -> str:
        try:
            reply = await self.http.get("/readyz", timeout=1)
        except httpx.HTTPError:
            return "unreachable"
        return str(reply.json().get("role")) if reply.status_code == 200 else "not-ready"


@dataclass
class Pair:
    instances: list[Instance]
    sip_target: str
    issuer: TestIssuer
    qm: httpx.AsyncClient
    rtpengine: RtpEngine
    folder: Path

    async def active(self) -> Instance:
        for instance in self.instances:
            if await instance.role() == "active":
                return instance
        raise AssertionError("no active call-manager")

    async def calls(self, instance: Instance) -> list[dict[str, object]]:
        reply = await instance.http.get("/api/v1/calls", headers=self.issuer.bearer("cm.calls.read"))
        assert reply.status_code == 200, reply.text
        found: list[dict[str, object]] = reply.json()
        return found

    async def agent_phone(self, user: str, agent_id: str, name: str, **values: object) -> SippRun:
        port = free_port()
        code = await register_with_sipp(self.sip_target, user, "callisto", contact=port, folder=self.folder)
        assert code == 0
        supervisor = self.issuer.bearer("qm.#")
        for request in ("login", "ready"):
            reply = await self.qm.post(
                f"/api/v1/agents/{agent_id}/state", json={"request": request}, headers=supervisor
            )
            assert reply.status_code == 200, reply.text
        xml = scenario(name, self.folder, **{"RING_MS": 300, **values})
        return await start_sipp(xml, self.folder, "-m", "1", "-p", str(port), "-mp", str(free_media_port()))

    async def connected_call(self, instance: Instance) -> tuple[str, list[SippRun]]:
        """A caller through the IVR and queue to agent-1's sipp phone (which waits for a BYE)."""
        phones = [await self.agent_phone("operator1", "agent-1", "agent"), await self.caller()]

        async def connected() -> bool:
            return [c["state"] for c in await self.calls(instance)] == ["connected"]

        await eventually(connected, 30, "the call connected")
        (call,) = await self.calls(instance)
        return str(call["call_id"]), phones

    async def hang_up(self, instance: Instance, call_id: str, phones: list[SippRun]) -> None:
        """End the call through ``instance``'s API; both sipp sides get their BYE."""
        control = self.issuer.bearer("cm.calls.control")
        hung_up = await instance.http.post(f"/api/v1/calls/{call_id}/hangup", headers=control)
        assert hung_up.status_code == 200, hung_up.text
        for run in phones:
            code, errors = await run.result(30)
            assert code == 0, errors

    async def caller(self) -> SippRun:
        """A caller who stays until Callisto hangs up (a key press early on does nothing here)."""
        xml = scenario("caller_stays", self.folder, NUMBER=500, CALLER=5551234, KEY=9, KEY_AT_MS=500)
        return await start_sipp(
            xml,
            self.folder,
            self.sip_target,
            "-m",
            "1",
            "-p",
            str(free_port()),
            "-mp",
            str(free_media_port()),
        )


def spawn(
    name: str, nats: NatsServer, redis_url: str, rtpengine: RtpEngine, sip_port: int, folder: Path
) -> tuple[ManagedProcess, str]:
    port = free_port()
    plan = folder / "plan.yaml"
    plan.write_text(yaml.safe_dump(PLAN))
    env = {
        "MODE": "development", "NATS_URL": nats.url, "REDIS_URL": redis_url, "HTTP_PORT": port,
        "INSTANCE_ID": name, "LEASE_TTL_S": LEASE_TTL, "SIP_PORT": sip_port, "RTPENGINE_PORT": rtpengine.port,
        "DTMF_PORT": rtpengine.dtmf_port, "PROMPTS_DIR": PROMPTS, "CONFIG_FILE": plan, "KEEPALIVE_S": 600,
        "SIP_T1_S": 0.1, "SIP_T4_S": 1.0,
    }  # fmt: skip
    process = spawn_service(
        "callisto_call_manager",
        {f"CALLISTO_CALL_MANAGER_{key}": str(value) for key, value in env.items()},
        folder / f"{name}.log",
    )
    return process, f"http://127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def pair_of_call_managers(
    nats: NatsServer, redis_server: RedisServer, rtpengine: RtpEngine, issuer: TestIssuer, folder: Path
) -> AsyncIterator[Pair]:
    """cm-one active (it starts first), cm-two standby, queue-manager in process; all stopped after."""
    issuer.service_permissions["call-manager"] = PERMISSIONS
    issuer.service_permissions["queue-manager"] = ["cm.#"]
    issuer.sip_users.update({"operator1": ("callisto", "agent-1"), "operator2": ("callisto", "agent-2")})
    client = redis.Redis.from_url(redis_server.url)
    await client.flushdb()
    await client.aclose()
    sip_port = free_port()
    qm_port = free_port()
    qm_settings = QueueManagerSettings(
        mode=Mode.DEVELOPMENT, nats_url=nats.url, redis_url=redis_server.url, http_port=qm_port,
        lease_ttl_s=1.0,
    )  # fmt: skip
    _, _, qm_app = build_queue_manager(qm_settings)
    processes: list[ManagedProcess] = []
    async with contextlib.AsyncExitStack() as stack:
        qm_base = await stack.enter_async_context(serve_in_process(qm_app, qm_port))
        qm = await stack.enter_async_context(httpx.AsyncClient(base_url=qm_base))
        instances: list[Instance] = []
        try:
            for name in ("cm-one", "cm-two"):
                process, base = spawn(name, nats, redis_server.url, rtpengine, sip_port, folder)
                processes.append(process)
                http = await stack.enter_async_context(httpx.AsyncClient(base_url=base))
                instance = Instance(name, process, http)
                instances.append(instance)
                wanted = "active" if name == "cm-one" else "standby"
                await eventually(functools.partial(_is, instance, wanted), 60, f"{name} {wanted}")
            await eventually(lambda: _ready(qm), 20, "queue-manager ready")
            yield Pair(instances, f"127.0.0.1:{sip_port}", issuer, qm, rtpengine, folder)
        finally:
            for process in processes:
                process.kill()


async def _is(instance: Instance, role: str) -> bool:
    return await instance.role() == role


async def _ready(http: httpx.AsyncClient) -> bool:
    """Ready and active (queue-manager is a singleton too)."""
    try:
        reply = await http.get("/readyz")
    except httpx.HTTPError:
        return False
    return reply.status_code == 200 and reply.json().get("role") == "active"


async def relayed(rtpengine: RtpEngine, call_id: str) -> dict[str, int]:
    """Packets rtpengine relayed so far for the call, per party (asked directly, not through cm)."""
    relay = MediaRelay("127.0.0.1", rtpengine.port)
    await relay.start()
    try:
        reply = await relay.query(call_id)
    finally:
        await relay.close()
    counts: dict[str, int] = {}
    for tag, party in reply.get("tags", {}).items():
        counts[tag] = sum(
            int(stream.get("stats", {}).get("packets", 0))
            for medium in party.get("medias", [])
            for stream in medium.get("streams", [])
        )
    return counts


async def test_killing_the_active_keeps_connected_calls_and_moves_ivr_callers_on(
    private_nats: NatsServer, redis_server: RedisServer, rtpengine: RtpEngine, token_issuer: TestIssuer,
    tmp_path: Path,
) -> None:  # fmt: skip
    async with pair_of_call_managers(private_nats, redis_server, rtpengine, token_issuer, tmp_path) as pair:
        one, two = pair.instances
        refused = await two.http.get("/api/v1/calls", headers=pair.issuer.bearer("cm.calls.read"))
        assert (refused.status_code, refused.json()["error_id"]) == (503, "standby")

        # a call connected to agent-1, who hangs up after the takeover (TALK_MS)
        agent_one = await pair.agent_phone("operator1", "agent-1", "agent_hangs_up", TALK_MS=9000)
        connected_caller = await pair.caller()

        async def connected() -> bool:
            return [c["state"] for c in await pair.calls(one)] == ["connected"]

        await eventually(connected, 30, "the first call connected")
        (call,) = await pair.calls(one)
        call_id = str(call["call_id"])
        # a second caller, still listening to the long greeting when the active dies
        agent_two = await pair.agent_phone("operator2", "agent-2", "agent", RING_MS=300)
        ivr_caller = await pair.caller()

        async def in_ivr() -> bool:
            return sorted(str(c["state"]) for c in await pair.calls(one)) == ["connected", "ivr"]

        await eventually(in_ivr, 20, "the second caller in the IVR")
        before = await relayed(pair.rtpengine, call_id)

        one.process.kill()
        took = await eventually(lambda: _is(two, "active"), LEASE_TTL * 8, "cm-two active with SIP bound")
        print(f"cm-two answered as active {took:.2f} s after the kill")

        calls = {str(c["call_id"]): c for c in await pair.calls(two)}
        assert calls[call_id]["state"] == "connected"
        after = await relayed(pair.rtpengine, call_id)
        # the agent's audio (a recording sipp started at the answer) still flows through rtpengine
        assert after["agent"] > before["agent"], (before, after)

        async def both_connected() -> bool:
            return [c["state"] for c in await pair.calls(two)] == ["connected", "connected"]

        await eventually(both_connected, 30, "the IVR caller moved on to the queue and reached agent-2")
        # agent-1 hangs up (its BYE goes to the new active, which ends the caller's leg); then the
        # other call is hung up through the new active's API
        for run in (agent_one, connected_caller):
            code, errors = await run.result(30)
            assert code == 0, errors
        (other,) = await pair.calls(two)
        control = pair.issuer.bearer("cm.calls.control")
        hung_up = await two.http.post(f"/api/v1/calls/{other['call_id']}/hangup", headers=control)
        assert hung_up.status_code == 200, hung_up.text
        for run in (agent_two, ivr_caller):
            code, errors = await run.result(30)
            assert code == 0, errors

        async def no_calls() -> bool:
            return not await pair.calls(two)

        await eventually(no_calls, 10, "no call left")


async def test_a_graceful_stop_hands_the_calls_over_and_frees_the_port_at_once(
    private_nats: NatsServer, redis_server: RedisServer, rtpengine: RtpEngine, token_issuer: TestIssuer,
    tmp_path: Path,
) -> None:  # fmt: skip
    async with pair_of_call_managers(private_nats, redis_server, rtpengine, token_issuer, tmp_path) as pair:
        one, two = pair.instances
        call_id, phones = await pair.connected_call(one)
        one.process.stop(sig=signal.SIGTERM)
        took = await eventually(lambda: _is(two, "active"), LEASE_TTL * 4, "cm-two active")
        print(f"cm-two active {took:.2f} s after SIGTERM")
        assert [c["state"] for c in await pair.calls(two)] == ["connected"]
        await pair.hang_up(two, call_id, phones)


async def test_a_frozen_active_lets_go_of_the_port_when_it_wakes_and_the_call_lives_on(
    private_nats: NatsServer, redis_server: RedisServer, rtpengine: RtpEngine, token_issuer: TestIssuer,
    tmp_path: Path,
) -> None:  # fmt: skip
    """SIGSTOP of the active past its lease: the standby wins the lease but, on one host, cannot bind
    the port the frozen one still holds (it says so: not ready, check ``sip``); SIGCONT: the old
    active, whose lease's time is up, lets go of the port without ending the call (no BYE, rtpengine
    untouched); the new one binds it and has the call, which it then ends cleanly."""
    async with pair_of_call_managers(private_nats, redis_server, rtpengine, token_issuer, tmp_path) as pair:
        one, two = pair.instances
        call_id, phones = await pair.connected_call(one)
        one.process.send_signal(signal.SIGSTOP)

        async def waiting_for_the_port() -> bool:
            reply = await two.http.get("/readyz", timeout=1)
            body = reply.json()
            return reply.status_code == 503 and body["role"] == "active" and body["checks"]["sip"] is False

        await eventually(waiting_for_the_port, LEASE_TTL * 6, "cm-two leads but waits for the SIP port")
        one.process.send_signal(signal.SIGCONT)
        took = await eventually(lambda: _is(two, "active"), LEASE_TTL * 6, "cm-two binds once cm-one lets go")
        print(f"cm-two ready {took:.2f} s after SIGCONT")
        await eventually(lambda: _is(one, "standby"), 5, "cm-one standby")
        assert [c["state"] for c in await pair.calls(two)] == ["connected"]
        assert await relayed(pair.rtpengine, call_id)  # rtpengine still relays it
        await pair.hang_up(two, call_id, phones)
