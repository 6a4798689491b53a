"""SIP layer benchmark: parse and serialize throughput, and CPU per call of a UAS under sipp.

    .venv/bin/python bench/sip_parse.py [--quick]

1. parse / serialize: typical INVITE (with SDP), 200 OK, ACK and BYE, in turn, for a few seconds each;
2. a UAS built on callisto_sip answers sipp's uac scenario at 100 calls/s (UDP); the process CPU time
   (user + system of this process only, not sipp's) divided by the calls completed.
Last line: one JSON object with the figures beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time

from callisto_devkit.processes import free_port
from callisto_sip import parse_message
from callisto_sip.endpoint import Endpoint
from callisto_sip.ua import IncomingCall, UserAgent

GOALS = {"cpu_ms_per_call": 5.0}
SDP = (
    "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
)
COMMON = (
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds;rport\r\n"
    'From: "Caller" <sip:+15551230000@trunk.example.net>;tag=1928301774\r\n'
    "Call-ID: a84b4c76e66710@pc33.example.net\r\n"
)
TO = "To: <sip:311@callisto.example>"
MESSAGES = [
    (
        f"INVITE sip:311@callisto.example SIP/2.0\r\n{COMMON}{TO}\r\nCSeq: 314159 INVITE\r\n"
        f"Max-Forwards: 70\r\nContact: <sip:+15551230000@192.0.2.10:5060>\r\n"
        f"Allow: INVITE, ACK, CANCEL, BYE\r\n"
        f"Content-Type: application/sdp\r\nContent-Length: {len(SDP)}\r\n\r\n{SDP}"
    ),
    (
        f"SIP/2.0 200 OK\r\n{COMMON}{TO};tag=a6c85cf\r\nCSeq: 314159 INVITE\r\n"
        f"Contact: <sip:callisto@198.51.100.7:5060>\r\nContent-Type: application/sdp\r\n"
        f"Content-Length: {len(SDP)}\r\n\r\n{SDP}"
    ),
    (
        f"ACK sip:callisto@198.51.100.7:5060 SIP/2.0\r\n{COMMON}{TO};tag=a6c85cf\r\n"
        "CSeq: 314159 ACK\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ),
    (
        f"BYE sip:callisto@198.51.100.7:5060 SIP/2.0\r\n{COMMON}{TO};tag=a6c85cf\r\n"
        "CSeq: 314160 BYE\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ),
]


def throughput(seconds: float) -> tuple[float, float]:
    raw = [m.encode() for m in MESSAGES]
    parsed = [parse_message(m) for m in raw]
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for data in raw:
            parse_message(data)
        count += len(raw)
    parse_rate = count / (time.perf_counter() - started)
    count = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for message in parsed:
            bytes(message)
        count += len(parsed)
    return parse_rate, count / (time.perf_counter() - started)


async def cpu_per_call(calls: int, rate: int) -> tuple[float, int, int]:
    endpoint = await Endpoint("127.0.0.1").start(free_port(), tcp=False)
    answered = 0

    async def on_invite(call: IncomingCall) -> None:
        nonlocal answered
        await call.answer(SDP.encode())
        answered += 1

    UserAgent(endpoint, on_invite=on_invite)
    sipp = shutil.which("sipp")
    if sipp is None:
        raise SystemExit("sipp is missing (Debian package sip-tester; make test installs it)")
    with tempfile.TemporaryDirectory() as folder:
        cpu_before = time.process_time()
        process = await asyncio.create_subprocess_exec(
            sipp,
            "-sn",
            "uac",
            "-i",
            "127.0.0.1",
            "-p",
            str(free_port()),
            "-m",
            str(calls),
            "-r",
            str(rate),
            "-l",
            str(rate * 2),
            "-t",
            "u1",
            f"127.0.0.1:{endpoint.port}",
            "-timeout",
            "120",
            "-timeout_error",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            cwd=folder,
        )
        code = await process.wait()
        await endpoint.wait_idle(10)
        cpu = time.process_time() - cpu_before
    await endpoint.close()
    return cpu * 1000 / max(answered, 1), answered, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    parse_rate, serialize_rate = throughput(1.0 if args.quick else 3.0)
    print(
        f"1. parse {parse_rate:,.0f} msgs/s, serialize {serialize_rate:,.0f} msgs/s "
        "(INVITE with SDP, 200 with SDP, ACK, BYE in turn)"
    )
    calls = 200 if args.quick else 1000
    cpu_ms, answered, code = asyncio.run(cpu_per_call(calls, 100))
    print(
        f"2. UAS under sipp uac at 100 calls/s: {answered}/{calls} calls answered, sipp exit {code}, "
        f"{cpu_ms:.2f} ms CPU per call in this process (goal under {GOALS['cpu_ms_per_call']} ms, "
        "so 100 calls/s take under half a core)"
    )
    print(
        json.dumps(
            {
                "parse_msgs_per_s": round(parse_rate),
                "serialize_msgs_per_s": round(serialize_rate),
                "cpu_ms_per_call": round(cpu_ms, 3),
                "goal_cpu_ms_per_call": GOALS["cpu_ms_per_call"],
                "calls": answered,
                "failed_calls": calls - answered,
            }
        )
    )


if __name__ == "__main__":
    main()
