"""Processes we start and must stop: identified by PID *and* start time, so that a PID reused by
another program is never signalled."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class DevkitError(Exception):
    """Root of the devkit's errors: a server that would not start or stop."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_media_port() -> int:
    """An even port whose UDP neighbours up to +3 are free (sipp's ``-mp``: audio RTP and RTCP, then
    video at +2 and +3), below the kernel's ephemeral range (32768 up), where rtpengine's ports and
    browsers' ICE candidates come from, so none of them takes it a moment later."""
    for _ in range(1000):
        port = random.randrange(20000, 32000, 2)
        if all(_udp_free(port + offset) for offset in range(4)):
            return port
    raise DevkitError("no free block of four UDP ports between 20000 and 32000")


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def proc_start_time(pid: int) -> int | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), or None if it does not exist."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return None  # a zombie is not running
    return int(fields[19])


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise DevkitError(f"{what} not within {timeout} s")


@dataclass
class ManagedProcess:
    name: str
    pid: int
    start_time: int
    argv: list[str]
    log_path: str

    @classmethod
    def spawn(
        cls,
        name: str,
        argv: list[str],
        log_path: Path,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> ManagedProcess:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                start_new_session=True,
            )
        start = proc_start_time(proc.pid)
        if start is None:
            raise DevkitError(f"{name} exited at once; see {log_path}")
        managed = cls(name, proc.pid, start, argv, str(log_path))
        managed._popen = proc
        return managed

    _popen: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)

    def alive(self) -> bool:
        if self._popen is not None and self._popen.poll() is not None:
            return False
        return proc_start_time(self.pid) == self.start_time

    def send_signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)

    def stop(self, timeout: float = 15.0, sig: int = signal.SIGTERM) -> None:
        """Signal the process, wait for it to end, and SIGKILL it if it will not."""
        if not self.alive():
            self._reap()
            return
        self.send_signal(sig)
        try:
            wait_until(lambda: self._reap() or not self.alive(), timeout, f"{self.name} to stop")
        except DevkitError:
            self.send_signal(signal.SIGKILL)
            wait_until(lambda: self._reap() or not self.alive(), 5, f"{self.name} to die")

    def kill(self) -> None:
        self.stop(timeout=5, sig=signal.SIGKILL)

    def _reap(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is not None
        return False

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "pid": self.pid,
            "start_time": self.start_time,
            "argv": self.argv,
            "log_path": self.log_path,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ManagedProcess:
        return cls(data["name"], data["pid"], data["start_time"], data["argv"], data["log_path"])

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(Path(self.log_path).read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""
