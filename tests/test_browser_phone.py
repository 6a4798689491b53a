"""A browser as the agent's phone: JsSIP (npm, bundled by bootstrap) in Debian's Chromium registers
over SIP over WebSocket with the agent's SIP password, a sipp trunk call goes through the IVR and the
queue, the page answers, and audio flows both ways through rtpengine (DTLS-SRTP and ICE toward the
browser, plain RTP toward the trunk). When the page goes away its registration goes with it."""

from __future__ import annotations

import math
import shutil
import struct
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis
from calls_testing import eventually, media_flowed, suite
from cm_testing import scenario
from playwright.async_api import Browser, Page, async_playwright
from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Route

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer, RedisServer, RtpEngine
from callisto_devkit.sipp import start_sipp
from callisto_protocol.telephony import RegistrationChanged

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is installed by bootstrap"),
]
ROOT = Path(__file__).resolve().parents[1]
JSSIP = ROOT / "clients" / "softphone" / "dist" / "jssip.js"
PAGE = Path(__file__).with_name("browser") / "softphone.html"


def tone(path: Path, seconds: float = 20.0, rate: int = 48000) -> Path:
    """A 440 Hz tone: what the agent's fake microphone says."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
                for n in range(int(seconds * rate))
            )
        )
    return path


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    args = [
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic", "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream", f"--use-file-for-fake-audio-capture={tone(tmp_path / 'tone.wav')}",
        "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
        "--autoplay-policy=no-user-gesture-required",
    ]  # fmt: skip
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=shutil.which("chromium"), args=args)
        yield chromium
        await chromium.close()


@pytest.fixture
async def page_url() -> AsyncIterator[str]:
    assert JSSIP.exists(), "clients/softphone is built by scripts/bootstrap.sh (npm ci, esbuild)"

    async def html(_: Any) -> FileResponse:
        return FileResponse(PAGE, media_type="text/html")

    async def script(_: Any) -> FileResponse:
        return FileResponse(JSSIP, media_type="text/javascript")

    app = Starlette(routes=[Route("/", html), Route("/jssip.js", script)])
    async with serve_in_process(app, free_port()) as base:
        yield base + "/"


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> str:
    client = redis.Redis.from_url(redis_server.url)
    await client.flushdb()
    await client.aclose()
    return redis_server.url


async def events(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("window.phone.events")
    return found


async def audio(page: Page) -> dict[str, float]:
    found: dict[str, float] = await page.evaluate("window.phone.audio()")
    return found


async def test_a_browser_registers_over_websocket_answers_a_trunk_call_and_talks(
    browser: Browser, page_url: str, private_nats: NatsServer, redis_url: str, rtpengine: RtpEngine,
    token_issuer: TestIssuer, tmp_path: Path,
) -> None:  # fmt: skip
    ws_port = free_port()
    async with suite(private_nats, redis_url, rtpengine, token_issuer, tmp_path, sip_ws_port=ws_port) as s:
        page = await browser.new_page()
        page.on("console", lambda message: print("page:", message.text))  # shown when the test fails
        await page.goto(page_url)
        await page.evaluate(f"window.phone.start('ws://127.0.0.1:{ws_port}', 'operator1', 'callisto')")

        async def registered() -> bool:
            return "registered" in await events(page)

        await eventually(registered, 15)
        phones = (await s.cm_http.get("/api/v1/registrations", headers=s.issuer.bearer("cm.#"))).json()
        assert [(p["username"], p["protocol"]) for p in phones] == [("operator1", "WS")]
        await s.agent_ready("agent-1")
        talks = scenario(
            "caller_talks", tmp_path, NUMBER=311, KEY=1, KEY_AT_MS=3500, TALK_AT_MS=1500, HOLD_MS=6000
        )
        caller = await start_sipp(
            talks, tmp_path, s.sip_target, "-m", "1", "-p", str(free_port()), "-mp", str(free_port())
        )

        async def answered() -> bool:
            return "confirmed" in await events(page)

        await eventually(answered, 20)

        async def talking() -> bool:
            heard = await audio(page)
            return heard["received"] > 50 and heard["energy"] > 0 and heard["sent"] > 50

        await eventually(talking, 10)  # the caller's recording reaches the page, its tone goes out
        (call,) = await s.calls()
        relayed = await media_flowed(str(call["call_id"]), s.cm)
        assert relayed.get("caller", 0) > 50 and relayed.get("agent", 0) > 50, relayed

        code, errors = await caller.result(30)  # the caller hangs up: the page's session ends
        assert code == 0, errors

        async def ended() -> bool:
            return any(e.startswith("ended:") for e in await events(page))

        await eventually(ended, 10)
        await page.close()  # the WebSocket goes: so does the registration

        async def unregistered() -> bool:
            return not (await s.cm_http.get("/api/v1/registrations", headers=s.issuer.bearer("cm.#"))).json()

        await eventually(unregistered, 10)
        assert not s.cm.board.live and not s.cm.board.ua.dialogs
    changes = [(e.registered, e.reason) for e in s.of(RegistrationChanged)]
    assert changes == [(True, "register"), (False, "disconnected")], changes
