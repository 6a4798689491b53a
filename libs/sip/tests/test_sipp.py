"""The SIP layer against sipp (Debian sip-tester), a real and independent SIP peer: a UAS built on
the library serves sipp's uac scenario, a UAC built on it calls sipp's uas scenario, over UDP and TCP,
and with 10 % packet loss every call still completes thanks to the RFC 3261 timers."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from callisto_devkit.processes import free_port
from callisto_devkit.sipp import sipp_binary
from callisto_sip.endpoint import Endpoint
from callisto_sip.transaction import Timers
from callisto_sip.ua import IncomingCall, UserAgent

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SCENARIOS = Path(__file__).with_name("scenarios")
CALLS = 100
# shorter than RFC 3261's defaults, as T1 may be on a LAN, so that a call sipp leaves unfinished (it
# sends no ACK and no BYE) is ended by our timers within the test: 2xx sent again for 64*T1, then BYE
TIMERS = Timers(t1=0.2, t2=2.0, t4=2.0)
SDP = (
    b"v=0\r\no=callisto 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 6000 RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
)


async def run_sipp(args: list[str], tmp_path: Path, timeout: float = 120) -> tuple[int, str]:
    errors = tmp_path / "sipp_errors.log"
    process = await asyncio.create_subprocess_exec(
        sipp_binary(),
        *args,
        "-i",
        "127.0.0.1",
        "-timeout",
        "90",
        "-timeout_error",
        "-trace_err",
        "-error_file",
        str(errors),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=tmp_path,
    )
    code = await asyncio.wait_for(process.wait(), timeout)
    return code, errors.read_text(errors="replace")[:3000] if errors.exists() else ""


async def drained(endpoint: Endpoint, ua: UserAgent, timeout: float = 40.0) -> bool:
    """No transaction and no dialog left (each ended by a message or by its timers)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while endpoint.server or endpoint.client or ua.dialogs:
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


@pytest.mark.parametrize(
    ("transport", "lost"), [("UDP", 0), ("TCP", 0), ("UDP", 10)], ids=["udp", "tcp", "udp-lost-10"]
)
async def test_uas_serves_sipp_uac(transport: str, lost: int, tmp_path: Path) -> None:
    endpoint = await Endpoint("127.0.0.1", timers=TIMERS).start(free_port())
    answered = 0

    async def on_invite(call: IncomingCall) -> None:
        nonlocal answered
        call.ring()
        await call.answer(SDP)
        answered += 1

    ua = UserAgent(endpoint, on_invite=on_invite)
    try:
        args = [
            "-sn",
            "uac",
            "-p",
            str(free_port()),
            "-m",
            str(CALLS),
            "-r",
            "50",
            "-l",
            "30",
            "-t",
            "u1" if transport == "UDP" else "t1",
            f"127.0.0.1:{endpoint.port}",
        ]
        if lost:
            args += ["-lost", str(lost)]
        code, errors = await run_sipp(args, tmp_path)
        assert code == 0, f"sipp reported failed calls:\n{errors}"
        assert answered == CALLS
        assert await drained(endpoint, ua), "transactions or dialogs left open"
        if lost:
            assert endpoint.stats["2xx-retransmissions"] + endpoint.stats["retransmitted-requests"] > 0
    finally:
        await endpoint.close()


@pytest.mark.parametrize(
    ("transport", "lossy"), [("UDP", False), ("TCP", False), ("UDP", True)], ids=["udp", "tcp", "udp-lost-10"]
)
async def test_uac_calls_sipp_uas(transport: str, lossy: bool, tmp_path: Path) -> None:
    endpoint = await Endpoint("127.0.0.1", timers=TIMERS).start(free_port())
    ua = UserAgent(endpoint)
    port = free_port()
    scenario = ["-sf", str(SCENARIOS / "uas_lossy.xml")] if lossy else ["-sn", "uas"]
    sipp_run = asyncio.create_task(
        run_sipp(
            [*scenario, "-p", str(port), "-m", str(CALLS), "-t", "u1" if transport == "UDP" else "t1"],
            tmp_path,
        )
    )
    await asyncio.sleep(0.5)
    completed: list[int] = []
    failures: list[str] = []
    limit = asyncio.Semaphore(20)

    async def one() -> None:
        async with limit:
            try:
                dialog = await ua.call(
                    f"sip:service@127.0.0.1:{port}", ("127.0.0.1", port), body=SDP, protocol=transport
                )
                await asyncio.sleep(0.05)
                completed.append((await dialog.bye()).status)
            except Exception as exc:
                failures.append(repr(exc))

    try:
        await asyncio.gather(*(one() for _ in range(CALLS)))
        code, errors = await sipp_run
        assert failures == []
        assert completed == [200] * CALLS
        assert code == 0, errors
        assert await drained(endpoint, ua), "transactions or dialogs left open"
    finally:
        sipp_run.cancel()
        await endpoint.close()
