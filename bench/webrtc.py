"""Browser phones benchmark: concurrent WebRTC calls through call-manager and rtpengine.

    .venv/bin/python bench/webrtc.py [--levels 5,10,20] [--hold-s 60]

Real NATS, Redis, rtpengine (userspace), sipp as the trunk and Debian's Chromium (headless, fake audio
devices) with one page per agent running the test softphone (JsSIP over WebSocket, built by
bootstrap). call-manager runs in its own process; queue-manager's part is played on the bus by this
script (each Enqueue is connected at once to the next free browser agent). At each level N, N pages
register, sipp places N calls at once, each page answers one, and every call is held ``--hold-s``:
a call counts as having audio when its page received the caller's recording (packets and audio
energy) and rtpengine relayed the page's tone. Setup time: from the INVITE reaching the page to the
first packet of audio it receives. The largest level whose calls all had audio both ways is the
figure; levels stop at the first that fails. Then the same number of calls answered by a SIP phone
(sipp, with RTP) gives the CPU of call-manager and rtpengine per plain call, for the ratio.
Last line: one JSON object with the figures beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import httpx
from figures import cpu_s, percentile
from playwright.async_api import Browser, Page
from prometheus_client import CollectorRegistry

from callisto_devkit.browser import chromium, softphone_app
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_media_port, free_port
from callisto_devkit.pytest_plugin import serve_in_process, spawn_service
from callisto_devkit.servers import NatsServer, RedisServer, RtpEngine
from callisto_devkit.sipp import SippRun, scenario, start_sipp
from callisto_protocol import Envelope
from callisto_protocol.queues import ConnectAccepted, ConnectCall, Enqueue, Enqueued
from callisto_runtime import Bus
from callisto_runtime.metrics import BusMetrics

GOALS = {"setup_p95_s": 1.0, "calls_without_audio": 0, "max_concurrent_browser_calls": 20}
PLAN = """
trunks: [{name: bench, sources: ["127.0.0.1"]}]
numbers: {"*": direct}
flows: {direct: {start: q, steps: {q: {queue: bench, announce: false, hold_music: null}}}}
"""


class Agents:
    """queue-manager as call-manager sees it: each waiting call goes to the next free agent."""

    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.free: list[str] = []
        self.offers = itertools.count()
        self.pending: set[asyncio.Task[Any]] = set()

    async def enqueue(self, command: Enqueue, _: Envelope) -> Enqueued:
        agent = self.free.pop(0)
        connect = ConnectCall(
            call_id=command.call_id, agent_id=agent, offer_id=f"o{next(self.offers)}", ring_timeout_s=20
        )
        task = asyncio.create_task(self.bus.call(connect, ConnectAccepted))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)
        return Enqueued(call_id=command.call_id, queue_id=command.queue_id, position=1)


async def phone(browser: Browser, url: str, ws_port: int, user: str) -> Page:
    page = await browser.new_page()
    await page.goto(url)
    await page.evaluate(f"window.phone.start('ws://127.0.0.1:{ws_port}', '{user}', 'bench')")
    for _ in range(300):
        if "registered" in await page.evaluate("window.phone.events"):
            return page
        await asyncio.sleep(0.05)
    raise SystemExit(f"{user} did not register: {await page.evaluate('window.phone.events')}")


async def level(
    n: int, pages: list[Page], agents: Agents, sip_target: str, hold_s: float, folder: Path, pids: list[int]
) -> tuple[list[float], int, float]:
    """N calls at once to N pages: setup times, calls without audio both ways, CPU seconds used."""
    for page in pages:
        await page.evaluate("window.phone.events = []; window.phone.session = null")
    agents.free = [f"agent-w{i}" for i in range(n)]
    talks = scenario("caller_talks", folder, NUMBER=5000, CALLER=5551234, KEY=1, KEY_AT_MS=100,
                     TALK_AT_MS=100, HOLD_MS=int(hold_s * 1000))  # fmt: skip
    used = sum(cpu_s(pid) for pid in pids)
    callers = await trunk_calls(n, talks, folder, sip_target, hold_s)
    await asyncio.sleep(min(8.0, hold_s / 2))  # the callers' recording is playing now
    heard = [await page.evaluate("window.phone.audio()") for page in pages]
    results = [await caller.result(hold_s + 120) for caller in callers]
    failed = [errors for code, errors in results if code != 0]
    used = sum(cpu_s(pid) for pid in pids) - used
    setups = [
        s / 1000 for page in pages if (s := await page.evaluate("window.phone.firstAudioMs")) is not None
    ]
    silent = sum(1 for h in heard if not (h["received"] > 20 and h["energy"] > 0 and h["sent"] > 20))
    for errors in failed:
        print(f"level {n}: a trunk call failed: {errors[-300:]}")
    return setups, max(silent, len(failed)), used


async def trunk_calls(n: int, talks: Path, folder: Path, sip_target: str, hold_s: float) -> list[SippRun]:
    """N callers at once, each its own sipp (sipp 3.6 gives all calls of one process the same media
    port, and their recordings then trip over each other)."""
    timeout = f"{int(hold_s) + 120}s"
    runs = []
    for _ in range(n):
        ports = ["-p", str(free_port()), "-mp", str(free_media_port())]
        runs.append(await start_sipp(talks, folder, sip_target, "-m", "1", *ports, "-timeout", timeout))
    return runs


async def sip_phones(
    n: int, sip_target: str, agents: Agents, hold_s: float, folder: Path, pids: list[int]
) -> float:
    """The same N calls answered by a plain SIP phone (sipp, with RTP both ways): CPU seconds used."""
    contact = free_port()
    register = scenario("register", folder, USER="sip-phone", PASSWORD="bench", CONTACT_PORT=contact,
                        EXPIRES=3600, EXPECT=200)  # fmt: skip
    code, errors = await (
        await start_sipp(register, folder, sip_target, "-m", "1", "-p", str(free_port()))
    ).result()
    if code != 0:
        raise SystemExit(f"the SIP phone did not register: {errors}")
    answering = await start_sipp(
        scenario("agent", folder, RING_MS=100), folder, "-m", str(n), "-p", str(contact),
        "-mp", str(free_media_port()), "-timeout", f"{int(hold_s) + 120}s",
    )  # fmt: skip
    agents.free = ["agent-sip"] * n
    talks = scenario("caller_talks", folder, NUMBER=5000, CALLER=5551234, KEY=1, KEY_AT_MS=100,
                     TALK_AT_MS=100, HOLD_MS=int(hold_s * 1000))  # fmt: skip
    used = sum(cpu_s(pid) for pid in pids)
    for caller in await trunk_calls(n, talks, folder, sip_target, hold_s):
        await caller.result(hold_s + 120)
    used = sum(cpu_s(pid) for pid in pids) - used
    if answering.process.returncode is None:  # it may have ended with its last call
        answering.process.kill()
    return used


async def run(levels: list[int], hold_s: float) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="callisto-bench-webrtc-"))
    nats, redis_server = NatsServer().start(), RedisServer().start()
    media = RtpEngine(port_min=40000, port_max=59999).start()  # sipp's media ports are below
    issuer = TestIssuer({"call-manager": ["auth.sip-credentials.read", "qm.#"]})
    for i in range(max(levels)):
        issuer.sip_users[f"w{i}"] = ("bench", f"agent-w{i}")
    issuer.sip_users["sip-phone"] = ("bench", "agent-sip")
    await issuer.start(nats.url)
    bus = Bus("queue-manager", "bench", BusMetrics(CollectorRegistry()))

    async def token() -> str:
        return issuer.token("cm.#")

    bus.token_source = token
    agents = Agents(bus)
    await bus.serve(Enqueue, agents.enqueue, permission=None)
    await bus.start(nats.url)
    await bus.wait_connected(10)
    plan = folder / "plan.yaml"
    plan.write_text(PLAN)
    http_port, sip_port, ws_port = free_port(), free_port(), free_port()
    settings = {
        "MODE": "development", "NATS_URL": nats.url, "REDIS_URL": redis_server.url, "HTTP_PORT": http_port,
        "SIP_PORT": sip_port, "SIP_WS_PORT": ws_port, "RTPENGINE_PORT": media.port, "CONFIG_FILE": plan,
        "PROMPTS_DIR": folder / "p", "LOG_LEVEL": "WARNING", "KEEPALIVE_S": 3600,
    }  # fmt: skip
    env = {f"CALLISTO_CALL_MANAGER_{name}": str(value) for name, value in settings.items()}
    service = spawn_service("callisto_call_manager", env, folder / "call-manager.log")
    assert media.process is not None
    pids = [service.pid, media.process.pid]

    setups: list[float] = []
    silent_total = 0
    best = 0
    browser_cpu: tuple[int, float] | None = None
    try:
        async with (
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as http,
            serve_in_process(softphone_app(), free_port()) as pages_url,
        ):
            for _ in range(600):
                try:
                    reply = await http.get("/readyz")
                    if reply.status_code == 200 and reply.json()["role"] == "active":
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            async with chromium(folder) as browser:  # closed before the SIP phones' round
                pages: list[Page] = []
                target = f"127.0.0.1:{sip_port}"
                for n in levels:
                    while len(pages) < n:
                        pages.append(await phone(browser, pages_url + "/", ws_port, f"w{len(pages)}"))
                    found, silent, used = await level(n, pages[:n], agents, target, hold_s, folder, pids)
                    setups.extend(found)
                    silent_total += silent
                    print(f"{n} browser calls held {hold_s:g} s: setup p50 {percentile(found, 50):.2f} s, "
                          f"p95 {percentile(found, 95):.2f} s; without audio both ways: {silent}; "
                          f"call-manager + rtpengine CPU {used:.1f} s")  # fmt: skip
                    if silent:
                        break
                    best, browser_cpu = n, (n, used)
            ratio = None
            if browser_cpu is not None:
                n, used = browser_cpu
                plain = await sip_phones(n, target, agents, hold_s, folder, pids)
                ratio = round(used / plain, 2) if plain > 0 else None
                print(f"{n} SIP-phone calls held {hold_s:g} s: call-manager + rtpengine CPU {plain:.1f} s "
                      f"(browser calls: {used:.1f} s, ratio {ratio})")  # fmt: skip
    finally:
        service.stop()
        await bus.close()
        await issuer.stop()
        for server in (media, redis_server, nats):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "setup_p95_s": round(percentile(setups, 95), 2),
        "calls_without_audio": silent_total,
        "max_concurrent_browser_calls": best,
        "cpu_ratio_browser_vs_sip": ratio,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--levels", default="5,10,20", help="concurrent browser calls to try, in order")
    parser.add_argument("--hold-s", type=float, default=60, help="how long each call is held")
    args = parser.parse_args()
    figures = asyncio.run(run([int(n) for n in args.levels.split(",")], args.hold_s))
    goals = {**GOALS, "cpu_ratio_browser_vs_sip": None}  # reported, no goal set
    print(json.dumps({key: value for name, value in figures.items() for key, value in
                      ((name, value), (f"goal_{name}", goals[name]))}))  # fmt: skip


if __name__ == "__main__":
    main()
