"""Recording benchmark: conversion speed and memory on a four-hour call, size per hour, hang-up to
available at 50 concurrent recordings, and the first byte of a Range request.

    .venv/bin/python bench/recording.py [--hours 4] [--calls 50] [--call-s 300] [--spread-s 150]
                                        [--ranges 1000] [--sealed]

Captures are written as rtpengine writes them (pcap, link type RAW, IPv4/UDP/RTP, G.711 µ-law, 20-ms
packets from both legs) carrying conversation-like audio: each party talks in spurts of band-limited
noise at speech level while the other mostly listens, with some overtalk and pauses.

1. one call of ``--hours`` converted in a child process (as the service's workers do): the
   conversion's CPU time against the call's length (times real time per core), the child's peak
   resident memory (the interpreter, numpy and PyAV included), the Opus file's size per hour;
2. the service (its own NATS and PostgreSQL; two conversion workers on this two-core machine):
   ``--calls`` recordings under way at once, each ``--call-s`` long; they end one after another over
   ``--spread-s`` seconds (50 concurrent 5-minute calls end one every 6 s in a steady state; 150 s is
   twice that rate). Per call: from the hang-up (``CallStateChanged`` ended, its metadata in place) to
   ``RecordingAvailable`` received, the settle time (2 s) included;
3. ``--ranges`` Range requests of 64 KiB at random places of the stored recordings over HTTP, one at
   a time: the time to the first byte of the body. ``--sealed`` stores them sealed (AES-256-GCM).

Last line: one JSON object with the figures beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from figures import percentile

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.publishers import Publishers
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer, PostgresServer
from callisto_protocol import Envelope
from callisto_protocol.calls import CallDirection, CallState, CallStateChanged
from callisto_protocol.recordings import RecordingAvailable
from callisto_recording.app import build
from callisto_recording.g711 import encode_ulaw
from callisto_recording.settings import RecordingSettings
from callisto_runtime import Mode

GOALS = {
    "convert_x_realtime": 300.0,
    "mb_per_hour": 7.5,
    "available_p95_s": 10.0,
    "peak_memory_mb": 200.0,
    "range_ttfb_p99_ms": 50.0,
}
RATE = 8000
LOOP_S = 60  # the conversation repeats every minute (its packets are made once)
CUSTOMER_PORT, AGENT_PORT = 30000, 30002


def conversation(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A minute of two parties talking in turns (spurts of 0.5-4 s), sometimes at once."""
    rng = np.random.default_rng(seed)
    legs = [np.zeros(RATE * LOOP_S, np.float32) for _ in range(2)]
    at, speaker = 0, 0
    while at < RATE * LOOP_S:
        length = int(rng.uniform(0.5, 4.0) * RATE)
        noise = rng.standard_normal(length).astype(np.float32)
        voiced = np.convolve(noise, np.ones(6) / 6, mode="same")  # below about 1.3 kHz mostly
        envelope = np.abs(np.sin(np.linspace(0, np.pi * rng.uniform(2, 8), length)))
        legs[speaker][at : at + length] += (
            voiced[: len(legs[speaker]) - at] * envelope[: len(legs[speaker]) - at] * 6000
        )
        if rng.random() < 0.15:  # the other one talks over
            over = min(length // 3, len(legs[1 - speaker]) - at)
            legs[1 - speaker][at : at + over] += rng.standard_normal(over).astype(np.float32) * 2000
        at += length + int(rng.uniform(0.1, 0.8) * RATE)
        speaker = 1 - speaker if rng.random() < 0.8 else speaker
    return tuple(np.clip(leg, -32000, 32000).astype(np.int16) for leg in legs)  # type: ignore[return-value]


def write_capture(path: Path, seconds: int, started: float) -> int:
    """A two-leg pcap of ``seconds``, as rtpengine writes it; its packets."""
    customer, agent = conversation(7)
    frames = RATE * LOOP_S // 160
    payloads = [
        [encode_ulaw(leg[n * 160 : (n + 1) * 160]) for n in range(frames)] for leg in (customer, agent)
    ]
    packets = 0
    with path.open("wb", buffering=1 << 20) as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        for n in range(seconds * 50):
            at = started + n * 0.02
            secs = int(at)
            micros = round((at - secs) * 1e6)
            for leg, (port, ssrc) in enumerate(((CUSTOMER_PORT, 11), (AGENT_PORT, 22))):
                rtp = struct.pack("!BBHII", 0x80, 0, n & 0xFFFF, (n * 160) & 0xFFFFFFFF, ssrc)
                udp_payload = rtp + payloads[leg][n % frames]
                udp = struct.pack("!HHHH", 40000 + leg, port, 8 + len(udp_payload), 0) + udp_payload
                ip = (
                    struct.pack(
                        "!BBHHHBBH4s4s",
                        0x45,
                        0,
                        20 + len(udp),
                        0,
                        0,
                        64,
                        17,
                        0,
                        b"\x7f\0\0\x01",
                        b"\x7f\0\0\x01",
                    )
                    + udp
                )
                out.write(struct.pack("<IIII", secs, micros, len(ip), len(ip)) + ip)
                packets += 1
    return packets


def metadata(folder: Path, call_id: str, pcap: Path) -> Path:
    meta = folder / "metadata" / f"rtpengine-meta-{call_id}-0000.txt"
    partial = folder / f".{meta.name}"
    partial.write_text(
        f"{pcap}\n\n\ncallisto-recording v1 call={call_id} customer={CUSTOMER_PORT} agent={AGENT_PORT}\n"
    )
    partial.replace(meta)  # in one step, as rtpengine moves it
    return meta


CONVERT = """
import json, sys, time
from pathlib import Path
from callisto_recording.converter import Segment, convert
started, cpu = time.perf_counter(), time.process_time()
done = convert([Segment(Path(sys.argv[1]), 30000, 30002)], Path(sys.argv[2]))
print(json.dumps({"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu,
                  "decoded_s": done.decoded_s}))
"""


def long_call(hours: float, work: Path) -> dict[str, float]:
    seconds = int(hours * 3600)
    pcap = work / "long.pcap"
    started = time.perf_counter()
    packets = write_capture(pcap, seconds, time.time())
    print(
        f"1. a {hours:g}-hour capture: {packets:,} packets, {pcap.stat().st_size / 1e6:.0f} MB "
        f"(written in {time.perf_counter() - started:.0f} s)"
    )
    out = work / "long.ogg"
    child = subprocess.run(
        [sys.executable, "-c", CONVERT, str(pcap), str(out)], capture_output=True, text=True, check=True
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    told = json.loads(child.stdout)
    cpu = told["cpu_s"]  # the conversion's own, the interpreter's start left out
    peak_mb = after.ru_maxrss / 1024
    size_mb = out.stat().st_size / 1e6
    figures = {
        "convert_x_realtime": round(seconds / cpu, 1),
        "convert_wall_x_realtime": round(seconds / told["wall_s"], 1),
        "mb_per_hour": round(size_mb / (told["decoded_s"] / 3600), 2),
        "peak_memory_mb": round(peak_mb, 1),
    }
    print(
        f"   converted in {told['wall_s']:.1f} s wall, {cpu:.1f} s CPU: "
        f"{figures['convert_x_realtime']}x real time per core; peak memory {peak_mb:.0f} MB; "
        f"Opus {size_mb:.1f} MB = {figures['mb_per_hour']} MB/h"
    )
    pcap.unlink()
    return figures


async def service_run(
    calls: int, call_s: int, spread_s: float, ranges: int, sealed: bool, work: Path
) -> dict[str, float]:
    nats = NatsServer(store_dir=work / "nats").start()
    pg = PostgresServer().start()
    issuer = TestIssuer({})
    await issuer.start(nats.url)
    capture = work / "capture"
    for folder in ("pcaps", "metadata"):
        (capture / folder).mkdir(parents=True)
    keys = (
        {"master_keys": {"k1": base64.b64encode(os.urandom(32)).decode()}, "master_key_id": "k1"}
        if sealed
        else {}
    )
    settings = RecordingSettings(
        nats_url=nats.url,
        http_port=free_port(),
        database_url=pg.dsn,
        mode=Mode.DEVELOPMENT,
        log_level="WARNING",
        capture_dir=capture,
        store_dir=work / "store",
        work_dir=work / "store-work",
        workers=2,
        **keys,
    )
    service, _, app = build(settings)
    publishers = Publishers(nats.url)
    arrived: dict[str, float] = {}

    async def available(event: RecordingAvailable, _: Envelope) -> None:
        arrived.setdefault(event.call_id, time.time())

    await service.bus.subscribe(RecordingAvailable, available)
    try:
        async with (
            serve_in_process(app, settings.http_port) as base,
            httpx.AsyncClient(base_url=base) as http,
        ):
            while (await http.get("/readyz")).status_code != 200:
                await asyncio.sleep(0.1)
            first = time.time()
            model = capture / "model.pcap"
            await asyncio.to_thread(write_capture, model, call_s, first)
            ids = [f"bench-{n:03}-{os.urandom(3).hex()}" for n in range(calls)]
            pcaps = {}
            for call_id in ids:
                pcaps[call_id] = capture / "pcaps" / f"{call_id}-0000.pcap"
                await asyncio.to_thread(shutil.copyfile, model, pcaps[call_id])
            model.unlink()

            def changed(call_id: str, state: CallState, seq: int) -> CallStateChanged:
                return CallStateChanged(
                    call_id=call_id,
                    seq=seq,
                    state=state,
                    since=datetime.now(UTC),
                    direction=CallDirection.INBOUND,
                    caller="+79165550000",
                    dialled="311",
                    queue_id="general",
                    agent_id="agent-1",
                )

            for call_id in ids:
                await publishers.publish(changed(call_id, CallState.CONNECTED, 1))
            print(f"2. {calls} recordings of {call_s} s under way; they end over {spread_s:.0f} s")
            hung_up: dict[str, float] = {}
            start = time.monotonic()
            for n, call_id in enumerate(ids):
                await asyncio.sleep(max(0.0, start + n * spread_s / calls - time.monotonic()))
                await asyncio.to_thread(metadata, capture, call_id, pcaps[call_id])
                ended = changed(call_id, CallState.ENDED, 2)
                hung_up[call_id] = ended.since.timestamp()
                await publishers.publish(ended)
            deadline = time.monotonic() + 300
            while len(arrived) < calls and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            waits = [arrived[c] - hung_up[c] for c in ids if c in arrived]
            print(
                f"   hang-up to available ({len(waits)} of {calls}): p50 {percentile(waits, 50):.2f} s, "
                f"p95 {percentile(waits, 95):.2f} s, max {max(waits):.2f} s"
            )

            token = {"Authorization": f"Bearer {issuer.token('recording.#')}"}
            listed = (await http.get("/api/v1/recordings", params={"limit": 500}, headers=token)).json()
            rng = random.Random(3)
            ttfb = []
            for _ in range(ranges):
                recording = rng.choice(listed)
                start_at = rng.randrange(0, max(1, recording["size"] - 65536))
                asked = {**token, "Range": f"bytes={start_at}-{start_at + 65535}"}
                began = time.perf_counter()
                async with http.stream(
                    "GET", f"/api/v1/recordings/{recording['id']}/audio", headers=asked
                ) as reply:
                    async for _ in reply.aiter_raw():
                        ttfb.append((time.perf_counter() - began) * 1000)
                        break
                    assert reply.status_code == 206
            kind = "sealed" if sealed else "plain"
            print(
                f"3. {ranges} Range requests of 64 KiB ({kind}, local store): first byte p50 "
                f"{percentile(ttfb, 50):.1f} ms, p99 {percentile(ttfb, 99):.1f} ms"
            )
    finally:
        await publishers.close()
        await issuer.stop()
        pg.stop()
        nats.stop()
    return {
        "available_p95_s": round(percentile(waits, 95), 2),
        "available_max_s": round(max(waits), 2),
        "range_ttfb_p99_ms": round(percentile(ttfb, 99), 1),
        "recordings_available": len(waits),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--call-s", type=int, default=300)
    parser.add_argument("--spread-s", type=float, default=150.0)
    parser.add_argument("--ranges", type=int, default=1000)
    parser.add_argument("--sealed", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="callisto-bench-recording-"))
    try:
        figures: dict[str, Any] = long_call(args.hours, work)
        figures.update(
            asyncio.run(service_run(args.calls, args.call_s, args.spread_s, args.ranges, args.sealed, work))
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    figures["sealed"] = args.sealed
    line: dict[str, Any] = {}
    for key, value in figures.items():
        line[key] = value
        if key in GOALS:
            line[f"goal_{key}"] = GOALS[key]
    print(json.dumps(line))


if __name__ == "__main__":
    main()
