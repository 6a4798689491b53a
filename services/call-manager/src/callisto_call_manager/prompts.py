"""Prompts rendered from text with espeak-ng at start (cached by text), plus the words and digits the
IVR needs to announce a position and an expected wait."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
from pathlib import Path

from callisto_call_manager.errors import ConfigError

log = logging.getLogger(__name__)
BUILT_IN = {
    **{f"digit-{d}": str(d) for d in range(10)},
    "position": "You are caller number",
    "in-line": "in line.",
    "wait": "The expected wait is about",
    "minutes": "minutes.",
    "under-a-minute": "The expected wait is less than a minute.",
    "hold": "Please stay on the line. Your call is important to us.",
    "sorry": "Sorry, we cannot take your call right now. Please call again later.",
    "goodbye": "Thank you for calling. Goodbye.",
    "callback-offer": "To keep your place in line and be called back instead, press",
    "callback-confirmed": "Thank you. We will call you back at the number you are calling from. Goodbye.",
    # an outbound call answered when no agent is free (the dial plan should name the caller and a number)
    "outbound-abandoned": "Sorry, all our operators are busy. We will call you again later. Goodbye.",
}


class Prompts:
    def __init__(self, folder: Path, texts: dict[str, str], *, voice: str = "en-us") -> None:
        self.folder = folder
        self.texts = {**BUILT_IN, **texts}
        self.voice = voice
        self.files: dict[str, Path] = {}
        self._rendering = asyncio.Lock()

    async def use(self, texts: dict[str, str]) -> None:
        """A new dial plan's texts: rendered before they are used (a prompt whose text changed is heard
        with its new text from then on, in calls already running too)."""
        self.texts = {**BUILT_IN, **texts}
        await self.render()

    async def render(self) -> None:
        """Render every prompt whose text changed since the last start."""
        async with self._rendering:
            await self._render()

    async def _render(self) -> None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise ConfigError("espeak-ng is missing: install the Debian package espeak-ng (make run does)")
        self.folder.mkdir(parents=True, exist_ok=True)
        for name, text in self.texts.items():
            digest = hashlib.sha256(f"{self.voice}\0{text}".encode()).hexdigest()[:12]
            path = self.folder / f"{name}-{digest}.wav"
            if not path.exists():
                process = await asyncio.create_subprocess_exec(
                    binary, "-v", self.voice, "-w", str(path), text,
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
                )  # fmt: skip
                _, error = await process.communicate()
                if process.returncode != 0:
                    raise ConfigError(
                        f"espeak-ng failed on prompt {name!r}: {error.decode(errors='replace')}"
                    )
            self.files[name] = path.resolve()
        log.info("%d prompts ready in %s", len(self.files), self.folder)

    def file(self, name: str) -> str:
        return str(self.files[name])


def announcement(position: int, expected_wait_s: float | None) -> list[str]:
    """The prompts that say "You are caller number 3 in line. The expected wait is about 4 minutes."."""
    names = ["position", *(f"digit-{d}" for d in str(position)), "in-line"]
    if expected_wait_s is not None:
        minutes = round(expected_wait_s / 60)
        if minutes < 1:
            names.append("under-a-minute")
        else:
            names += ["wait", *(f"digit-{d}" for d in str(minutes)), "minutes"]
    return names
