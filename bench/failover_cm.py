"""call-manager's half of the failover benchmark (run by ``bench/failover.py``, not alone).

Two call-manager processes on one host share the SIP port (only the lease holder binds it), with
their own NATS, Redis and rtpengine. Each round establishes calls (click-to-call: a sipp softphone
registered for the agent answers, then the customer, a SIP user agent acting as the trunk, answers),
kills the active (SIGKILL, then in other rounds SIGTERM) and sends INVITEs from the trunk every 50 ms
until one is answered. Then each established call is checked on the new active: still connected, its
audio still relayed by rtpengine (packets grow), hung up through the new active's API with the
customer's leg getting its BYE. A call failing any of these is broken. The killed instance comes back
as standby before the next round.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from callisto_call_manager.rtpengine import MediaRelay
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import ManagedProcess, free_media_port, free_port
from callisto_devkit.pytest_plugin import spawn_service
from callisto_devkit.servers import NatsServer, RedisServer, RtpEngine
from callisto_devkit.sipp import SippRun, scenario, start_sipp
from callisto_sip.endpoint import Endpoint
from callisto_sip.errors import SipError
from callisto_sip.transaction import Timers
from callisto_sip.ua import CallFailed, Dialog, DialogState, IncomingCall, UserAgent

LEASE_TTL = 1.5
CALLS_PER_ROUND = 3
PROBE_EVERY_S = 0.05
PERMISSIONS = ["auth.sip-credentials.read", "qm.#", "helpdesk.contacts.read", "core-bus.#"]


def offer(port: int) -> bytes:
    return (
        f"v=0\r\no=trunk 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        f"m=audio {port} RTP/AVP 8 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
        "a=sendrecv\r\n"
    ).encode()


class Trunk:
    """The carrier's side: answers the customers' legs of outbound calls, sends probe INVITEs."""

    def __init__(self) -> None:
        self.endpoint = Endpoint("127.0.0.1", timers=Timers(t1=0.1, t2=0.8, t4=1.0, d=6.4))
        self.ua = UserAgent(self.endpoint, user="trunk")
        self.ua.on_invite = self._answer
        self.ua.observers.append(self._changed)
        self.answered: list[Dialog] = []
        self.ended: set[str] = set()

    async def start(self) -> int:
        await self.endpoint.start(0, tcp=False)
        return self.endpoint.port

    async def _answer(self, incoming: IncomingCall) -> None:
        self.answered.append(await incoming.answer(offer(free_port())))

    def _changed(self, dialog: Dialog, state: DialogState) -> None:
        if state is DialogState.TERMINATED:
            self.ended.add(dialog.call_id)

    async def probe(self, sip_port: int) -> float | None:
        """One INVITE to the probe number: when its answer came (then it is hung up at once), or None
        when it got none within 0.5 s."""
        call = self.ua.call(f"sip:600@127.0.0.1:{sip_port}", ("127.0.0.1", sip_port), body=offer(free_port()))
        try:
            dialog = await asyncio.wait_for(call, 0.5)
        except (TimeoutError, CallFailed, SipError):
            return None
        answered = time.monotonic()
        try:
            await dialog.bye()
        except SipError:
            pass
        return answered


class Instances:
    def __init__(self, nats: NatsServer, redis_url: str, rtpengine: RtpEngine, folder: Path) -> None:
        self.nats, self.redis_url, self.rtpengine, self.folder = nats, redis_url, rtpengine, folder
        folder.mkdir(parents=True, exist_ok=True)
        self.sip_port = free_port()
        self.processes: dict[str, tuple[ManagedProcess, str]] = {}
        self.count = 0

    def spawn(self, trunk_port: int) -> str:
        self.count += 1
        name = f"cm-{self.count}"
        port = free_port()
        plan = self.folder / "plan.yaml"
        plan.write_text(yaml.safe_dump({
            "trunks": [{"name": "bench", "sources": ["127.0.0.1"],
                        "outbound": {"host": "127.0.0.1", "port": trunk_port}}],
            "numbers": {"600": "probe"},
            "flows": {"probe": {"start": "hello", "steps": {"hello": {"play": "sorry"}}}},
        }))  # fmt: skip
        env = {
            "MODE": "development", "NATS_URL": self.nats.url, "REDIS_URL": self.redis_url, "HTTP_PORT": port,
            "INSTANCE_ID": name, "LEASE_TTL_S": LEASE_TTL, "SIP_PORT": self.sip_port, "LOG_LEVEL": "WARNING",
            "RTPENGINE_PORT": self.rtpengine.port, "DTMF_PORT": self.rtpengine.dtmf_port, "CONFIG_FILE": plan,
            "PROMPTS_DIR": self.folder / "prompts", "KEEPALIVE_S": 600, "SIP_T1_S": 0.1, "SIP_T4_S": 1.0,
        }  # fmt: skip
        process = spawn_service(
            "callisto_call_manager",
            {f"CALLISTO_CALL_MANAGER_{key}": str(value) for key, value in env.items()},
            self.folder / f"{name}.log",
        )
        self.processes[name] = (process, f"http://127.0.0.1:{port}")
        return name

    async def role(self, name: str) -> str:
        try:
            async with httpx.AsyncClient(timeout=1) as http:
                reply = await http.get(f"{self.processes[name][1]}/readyz")
        except httpx.HTTPError:
            return "unreachable"
        return str(reply.json().get("role")) if reply.status_code == 200 else "not-ready"

    async def wait_role(self, name: str, role: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await self.role(name) == role:
                return
            await asyncio.sleep(0.05)
        raise SystemExit(f"{name} not {role} within {timeout} s (see {self.folder})")

    async def active(self) -> str:
        for name in self.processes:
            if await self.role(name) == "active":
                return name
        raise SystemExit(f"no active call-manager (see {self.folder})")

    def stop_all(self) -> None:
        for process, _ in self.processes.values():
            process.kill()


async def relayed(relay: MediaRelay, call_id: str) -> int | None:
    """Packets rtpengine relayed for the call so far; None when rtpengine no longer has it."""
    try:
        reply = await relay.query(call_id)
    except Exception:
        return None
    return sum(
        int(stream.get("stats", {}).get("packets", 0))
        for party in reply.get("tags", {}).values()
        for medium in party.get("medias", [])
        for stream in medium.get("streams", [])
    )


async def register(sip_port: int, folder: Path) -> tuple[SippRun, int]:
    """The agent's softphone: registered (digest), then answering every call it is offered."""
    contact = free_port()
    xml = scenario("register", folder, USER="op-bench", PASSWORD="callisto", CONTACT_PORT=contact,
                   EXPIRES=3600, EXPECT=200)  # fmt: skip
    run = await start_sipp(xml, folder, f"127.0.0.1:{sip_port}", "-m", "1", "-p", str(free_port()))
    code, errors = await run.result(30)
    if code != 0:
        raise SystemExit(f"registration failed: {errors}")
    phone = scenario("agent", folder, RING_MS=100)
    answering = await start_sipp(
        phone,
        folder,
        "-m",
        "100000",
        "-p",
        str(contact),
        "-mp",
        str(free_media_port()),
        "-l",
        "100",
        "-timeout",
        "3600s",
    )
    return answering, contact


async def outage(trunk: Trunk, pair: Instances, killed: float, folder: Path) -> float:
    """Probe INVITEs every 50 ms (each on its own) from the kill until the new active answered
    several; the longest time between two answers, the first gap counted from the kill (a draining
    active still answers at first: the gap comes when it lets go of the port)."""
    probes: list[asyncio.Task[float | None]] = []
    successor_active: float | None = None
    answered_by_successor = 0
    while answered_by_successor < 5:
        if time.monotonic() - killed > 30:
            raise SystemExit(f"no INVITE answered 30 s after the kill (see {folder})")
        probes.append(asyncio.create_task(trunk.probe(pair.sip_port)))
        await asyncio.sleep(PROBE_EVERY_S)
        if successor_active is None and await pair.role(next(iter(pair.processes))) == "active":
            successor_active = time.monotonic()
        if successor_active is not None:
            so_far = [t.result() for t in probes if t.done()]
            answered_by_successor = sum(1 for a in so_far if a is not None and a > successor_active)
    answers = sorted(a for a in await asyncio.gather(*probes) if a is not None)
    longest, last = 0.0, killed
    for answer in answers:
        longest, last = max(longest, answer - last), answer
    return longest


async def states(http: httpx.AsyncClient, base: str, headers: dict[str, str]) -> dict[str, str]:
    reply = await http.get(f"{base}/api/v1/calls", headers=headers)
    return {str(c["call_id"]): str(c["state"]) for c in reply.json()}


async def establish(http: httpx.AsyncClient, base: str, headers: dict[str, str], n: int) -> list[str]:
    placed = []
    for i in range(n):
        reply = await http.post(
            f"{base}/api/v1/calls", json={"number": f"7000{i}", "agent_id": "bench-agent"}, headers=headers
        )
        if reply.status_code != 200:
            raise SystemExit(f"originate failed: {reply.text}")
        placed.append(str(reply.json()["call_id"]))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        listed = {
            c["call_id"]: c["state"] for c in (await http.get(f"{base}/api/v1/calls", headers=headers)).json()
        }
        if all(listed.get(c) == "connected" for c in placed):
            return placed
        await asyncio.sleep(0.05)
    raise SystemExit(f"calls not connected: {listed}")


async def measure(rounds: int, folder: Path) -> dict[str, Any]:
    """Rounds of SIGKILL and of SIGTERM of the active call-manager; figures for the JSON line."""
    nats = NatsServer().start()
    redis_server = RedisServer().start()
    rtpengine = RtpEngine().start()
    issuer = TestIssuer({"call-manager": PERMISSIONS})
    issuer.sip_users["op-bench"] = ("callisto", "bench-agent")
    await issuer.start(nats.url)
    trunk = Trunk()
    trunk_port = await trunk.start()
    pair = Instances(nats, redis_server.url.rsplit("/", 1)[0] + "/4", rtpengine, folder)
    relay = MediaRelay("127.0.0.1", rtpengine.port)
    await relay.start()
    headers = issuer.bearer("cm.#")
    resume: dict[str, list[float]] = {"SIGKILL": [], "SIGTERM": []}
    established = broken = 0
    phone: SippRun | None = None
    try:
        first = pair.spawn(trunk_port)
        await pair.wait_role(first, "active", 30)
        await pair.wait_role(pair.spawn(trunk_port), "standby", 30)
        phone, _ = await register(pair.sip_port, folder)
        async with httpx.AsyncClient(timeout=5) as http:
            for kind in ("SIGKILL", "SIGTERM"):
                for _ in range(rounds):
                    victim = await pair.active()
                    calls = await establish(http, pair.processes[victim][1], headers, CALLS_PER_ROUND)
                    established += len(calls)
                    before = {c: await relayed(relay, c) for c in calls}
                    process, _ = pair.processes.pop(victim)
                    killed = time.monotonic()
                    stopping = asyncio.get_running_loop().run_in_executor(
                        None, process.stop, 15.0, signal.SIGTERM if kind == "SIGTERM" else signal.SIGKILL
                    )
                    resume[kind].append(await outage(trunk, pair, killed, folder))
                    await stopping
                    successor = await pair.active()
                    broken += await check_calls(http, pair.processes[successor][1], headers, calls, before,
                                                relay, trunk)  # fmt: skip
                    await pair.wait_role(pair.spawn(trunk_port), "standby", 30)
    finally:
        if phone is not None and phone.process.returncode is None:
            phone.process.kill()
        pair.stop_all()
        await relay.close()
        await trunk.endpoint.close()
        await issuer.stop()
        rtpengine.stop()
        redis_server.stop()
        nats.stop()
    return {"resume": resume, "established": established, "broken": broken}


async def check_calls(
    http: httpx.AsyncClient, base: str, headers: dict[str, str], calls: list[str],
    before: dict[str, int | None], relay: MediaRelay, trunk: Trunk,
) -> int:  # fmt: skip
    """How many of ``calls`` the new active broke: not connected, audio gone, not hung up cleanly."""
    broken = 0
    listed = {
        c["call_id"]: c["state"] for c in (await http.get(f"{base}/api/v1/calls", headers=headers)).json()
    }
    legs = {d.call_id for d in trunk.answered}
    for call_id in calls:
        now = await relayed(relay, call_id)
        was = before.get(call_id)
        audio = now is not None and was is not None and now > was
        hung_up = (
            await http.post(f"{base}/api/v1/calls/{call_id}/hangup", headers=headers)
        ).status_code == 200
        if listed.get(call_id) != "connected" or not audio or not hung_up:
            broken += 1
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not legs <= trunk.ended:
        await asyncio.sleep(0.05)
    broken += len(legs - trunk.ended)  # a customer never told the call ended
    trunk.answered.clear()
    return broken
