"""Browsers as phones in tests and benchmarks: Debian's Chromium with fake audio devices, the test
softphone page (JsSIP over WebSocket, built by bootstrap into clients/softphone/dist) served locally."""

from __future__ import annotations

import contextlib
import math
import shutil
import struct
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, async_playwright
from starlette.applications import Starlette
from starlette.responses import FileResponse
from starlette.routing import Route

from callisto_devkit.suite import repo_root

# headless on a closed machine: no background networking; WebRTC on loopback with real addresses
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns", "--autoplay-policy=no-user-gesture-required",
]  # fmt: skip


@contextlib.asynccontextmanager
async def chromium(folder: Path) -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, its fake microphone saying a tone (written into ``folder``)."""
    args = [*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={tone_wav(folder / 'tone.wav')}"]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"), args=args)
        try:
            yield browser
        finally:
            await browser.close()


def tone_wav(path: Path, seconds: float = 30.0, rate: int = 48000, hertz: float = 440.0) -> Path:
    """A sine tone: what a fake microphone says (``--use-file-for-fake-audio-capture``)."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(
            b"".join(
                struct.pack("<h", int(8000 * math.sin(2 * math.pi * hertz * n / rate)))
                for n in range(int(seconds * rate))
            )
        )
    return path


def softphone_app(root: Path | None = None) -> Starlette:
    """``/`` the test softphone page, ``/jssip.js`` the bundle it loads."""
    base = root or repo_root(Path(__file__).parent)
    page = base / "tests" / "browser" / "softphone.html"
    bundle = base / "clients" / "softphone" / "dist" / "jssip.js"
    if not bundle.exists():
        raise FileNotFoundError(f"{bundle}: clients/softphone is built by scripts/bootstrap.sh")

    async def html(_: Any) -> FileResponse:
        return FileResponse(page, media_type="text/html")

    async def script(_: Any) -> FileResponse:
        return FileResponse(bundle, media_type="text/javascript")

    return Starlette(routes=[Route("/", html), Route("/jssip.js", script)])
