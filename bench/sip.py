"""call-manager benchmark: sipp as the trunk at a fixed call rate, call-manager (its own process)
routing straight to a queue, agents' calls answered by one registered sipp UAS, sessions in rtpengine.

    .venv/bin/python bench/sip.py [--rate 100] [--seconds 20] [--hold-ms 20000]

Real NATS, Redis, rtpengine (userspace) and sipp. queue-manager's part is played on the bus by this
script (every Enqueue is answered and the call connected to the one benchmark agent at once), so the
figures are call-manager's own. Calls carry no RTP (the goal is signalling and session handling;
userspace rtpengine relays about 10,000 packets/s per 14 % of a core, ARCHITECTURE.md), but every call
has its rtpengine session, offer/answer twice, and a delete.

Figures: calls_per_s (completed calls / time sipp took to place them), failed_calls (sipp's count),
max_concurrent_calls (live calls in call-manager at the peak), cpu_ms_per_call (call-manager's
process CPU time / calls). Last line: one JSON object with the figures beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
from pathlib import Path

import httpx
from figures import cpu_s
from prometheus_client import CollectorRegistry

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import spawn_service
from callisto_devkit.servers import NatsServer, RedisServer, RtpEngine
from callisto_devkit.sipp import scenario, sipp_binary
from callisto_protocol import Envelope
from callisto_protocol.queues import ConnectAccepted, ConnectCall, Enqueue, Enqueued
from callisto_runtime import Bus
from callisto_runtime.metrics import BusMetrics

GOALS = {"calls_per_s": 100.0, "failed_calls": 0, "max_concurrent_calls": 2000, "cpu_ms_per_call": 5.0}
PLAN = """
trunks: [{name: bench, sources: ["127.0.0.1"]}]
numbers: {"*": direct}
flows: {direct: {start: q, steps: {q: {queue: bench, announce: false, hold_music: null}}}}
"""


def without_media(name: str, folder: Path, **values: object) -> Path:
    """A copy of a scenario with no RTP played and no key pressed."""
    return scenario(name, folder, drop="play_pcap_audio", **values)


async def sipp(*args: str, folder: Path, name: str) -> tuple[int, str]:
    stats = folder / f"{name}-stats.csv"
    process = await asyncio.create_subprocess_exec(
        sipp_binary(), "-i", "127.0.0.1", "-nostdin", "-trace_stat", "-stf", str(stats), "-fd", "1",
        "-max_socket", "5000", *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await process.communicate()
    return process.returncode or 0, stats.read_text() if stats.exists() else err.decode()


def failed_calls(stats: str) -> int:
    lines = [line.split(";") for line in stats.splitlines() if line.strip()]
    if len(lines) < 2:
        return -1
    header, last = lines[0], lines[-1]
    return int(last[header.index("FailedCall(C)")])


async def run(rate: int, seconds: int, hold_ms: int) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="callisto-bench-sip-"))
    nats, redis_server = NatsServer().start(), RedisServer().start()
    media = RtpEngine(port_min=20000, port_max=59999).start()
    issuer = TestIssuer({"call-manager": ["auth.sip-credentials.read", "qm.#"], "bench": ["cm.#"]})
    issuer.sip_users["agent"] = ("bench", "agent-bench")
    await issuer.start(nats.url)
    bus = Bus("queue-manager", "bench", BusMetrics(CollectorRegistry()))

    async def token() -> str:
        return issuer.token("cm.#")

    bus.token_source = token
    connects: list[asyncio.Task[object]] = []

    async def enqueue(command: Enqueue, _: Envelope) -> Enqueued:
        connect = ConnectCall(
            call_id=command.call_id, agent_id="agent-bench", offer_id="o1", ring_timeout_s=20
        )
        connects.append(asyncio.create_task(bus.call(connect, ConnectAccepted)))
        return Enqueued(call_id=command.call_id, queue_id=command.queue_id, position=1)

    await bus.serve(Enqueue, enqueue, permission=None)
    await bus.start(nats.url)
    await bus.wait_connected(10)
    plan = folder / "plan.yaml"
    plan.write_text(PLAN)
    http_port, sip_port = free_port(), free_port()
    settings = {
        "MODE": "development", "NATS_URL": nats.url, "REDIS_URL": redis_server.url, "HTTP_PORT": http_port,
        "SIP_PORT": sip_port, "RTPENGINE_PORT": media.port, "CONFIG_FILE": plan, "PROMPTS_DIR": folder / "p",
        "INVITE_RATE_PER_SOURCE": rate * 4, "LOG_LEVEL": "WARNING", "KEEPALIVE_S": 3600,
    }  # fmt: skip
    env = {f"CALLISTO_CALL_MANAGER_{name}": str(value) for name, value in settings.items()}
    service = spawn_service("callisto_call_manager", env, folder / "call-manager.log")
    peak = 0
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as http:
            for _ in range(600):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            target = f"127.0.0.1:{sip_port}"
            agent_port = free_port()
            reg = without_media("register", folder, USER="agent", PASSWORD="bench", CONTACT_PORT=agent_port,
                                EXPIRES=3600, EXPECT=200)  # fmt: skip
            code, _ = await sipp(
                "-sf", str(reg), "-m", "1", "-p", str(free_port()), target, folder=folder, name="r"
            )
            assert code == 0, "the benchmark agent could not register"
            calls = rate * seconds
            agent_xml = without_media("agent", folder, RING_MS=0)
            agent = asyncio.create_task(
                sipp(
                    "-sf",
                    str(agent_xml),
                    "-p",
                    str(agent_port),
                    "-m",
                    str(calls),
                    folder=folder,
                    name="agent",
                )
            )
            caller_xml = without_media("caller", folder, NUMBER=5000, KEY=1, KEY_AT_MS=0, HOLD_MS=hold_ms)
            started = cpu_s(service.pid)
            began = time.perf_counter()
            caller = asyncio.create_task(
                sipp("-sf", str(caller_xml), "-r", str(rate), "-m", str(calls), "-l", "5000",
                     "-p", str(free_port()), target, folder=folder, name="caller")
            )  # fmt: skip
            reader = issuer.bearer("cm.calls.read")
            placed_at = None
            while not caller.done():
                reply = await http.get("/api/v1/calls", headers=reader)
                live = len(reply.json())
                peak = max(peak, live)
                if placed_at is None and live >= min(calls, rate * hold_ms / 1000) * 0.98:
                    placed_at = time.perf_counter()
                await asyncio.sleep(0.5)
            code, stats = await caller
            elapsed = time.perf_counter() - began - hold_ms / 1000
            used = cpu_s(service.pid) - started
            await asyncio.wait_for(agent, 60)
            failed = failed_calls(stats)
            print(f"{calls} calls at {rate}/s, each held {hold_ms} ms: sipp exit {code}, failed {failed}")
            print(f"placing them took {elapsed:.1f} s; peak live calls {peak}; call-manager CPU {used:.1f} s")
            return {
                "calls_per_s": round(calls / max(elapsed, 1e-9), 1),
                "failed_calls": failed,
                "max_concurrent_calls": peak,
                "cpu_ms_per_call": round(used * 1000 / calls, 2),
            }
    finally:
        service.stop()
        await bus.close()
        await issuer.stop()
        for server in (media, redis_server, nats):
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=100, help="new calls per second")
    parser.add_argument("--seconds", type=int, default=20, help="how long calls are placed")
    parser.add_argument("--hold-ms", type=int, default=20000, help="how long each call lasts")
    args = parser.parse_args()
    figures = asyncio.run(run(args.rate, args.seconds, args.hold_ms))
    print(json.dumps({key: value for name, value in figures.items() for key, value in
                      ((name, value), (f"goal_{name}", GOALS[name]))}))  # fmt: skip


if __name__ == "__main__":
    main()
