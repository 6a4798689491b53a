"""sipp (Debian sip-tester), the independent SIP peer of the tests and benchmarks: find it, fill a
scenario template, run it in the background and read its verdict."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

from callisto_devkit.processes import DevkitError, free_port

SCENARIOS = Path(__file__).with_name("scenarios")  # trunk callers, agents' phones, registrations


def sipp_binary() -> str:
    path = shutil.which("sipp")
    if path is None:
        raise DevkitError("sipp is missing: install the Debian package sip-tester (make test does)")
    return path


def fill(template: Path, folder: Path, *, drop: str | None = None, **values: object) -> Path:
    """A copy of the scenario ``template`` in ``folder`` with its placeholders (upper-case words) set
    to ``values``, longest name first; lines containing ``drop`` are left out."""
    text = template.read_text()
    if drop is not None:
        text = "\n".join(line for line in text.splitlines() if drop not in line)
    for key, value in sorted(values.items(), key=lambda item: -len(item[0])):
        text = text.replace(key, str(value))
    path = folder / f"{template.stem}-{free_port()}.xml"
    path.write_text(text)
    return path


def scenario(name: str, folder: Path, *, drop: str | None = None, **values: object) -> Path:
    """A copy of ``scenarios/<name>.xml`` with its placeholders (upper-case words) filled in."""
    return fill(SCENARIOS / f"{name}.xml", folder, drop=drop, **values)


@dataclass
class SippRun:
    process: asyncio.subprocess.Process
    errors: Path

    async def result(self, timeout: float = 60) -> tuple[int, str]:
        """sipp's exit code (0: every call passed; killed after ``timeout``) and its error log."""
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        text = self.errors.read_text(errors="replace") if self.errors.exists() else ""
        return self.process.returncode or 0, text


async def start_sipp(scenario: Path, folder: Path, *args: str) -> SippRun:
    """Run ``sipp -sf scenario`` on 127.0.0.1 (signalling and media) with ``args``."""
    errors = folder / f"{scenario.stem}-errors.log"
    process = await asyncio.create_subprocess_exec(
        sipp_binary(), "-sf", str(scenario), "-i", "127.0.0.1", "-mi", "127.0.0.1", "-nostdin",
        "-timeout", "60s", "-trace_err", "-error_file", str(errors), *args,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return SippRun(process, errors)
