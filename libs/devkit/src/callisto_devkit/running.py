"""The whole suite as `make run` starts it (`callisto up`), on free ports in a folder of its own: for
tests and benchmarks that need every service as people run them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from callisto_devkit.processes import free_port
from callisto_devkit.suite import SuiteState, repo_root


def callisto(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).with_name("callisto")
    return subprocess.run(
        [str(cli), *args, "--home", str(home)],
        capture_output=True,
        text=True,
        cwd=repo_root(Path(__file__).parent),
        timeout=180,
        env={**os.environ, "COLUMNS": "200"},
    )


@contextlib.contextmanager
def running_suite(name: str) -> Iterator[tuple[SuiteState, Path]]:
    """`callisto up` in /tmp/callisto-<name>-<pid> (PostgreSQL, as user postgres, must reach it);
    `callisto down` afterwards, whatever happened."""
    home = Path("/tmp") / f"callisto-{name}-{os.getpid()}"
    offset = 20000 + (os.getpid() % 20000) + (hash(name) % 7) * 10  # far from a running suite's ports
    ports = [str(free_port()) for _ in range(8)]
    options = (
        "--nats-port",
        "--nats-monitor-port",
        "--redis-port",
        "--pg-port",
        "--rtpengine-port",
        "--sip-port",
        "--sip-ws-port",
        "--sip-wss-port",
    )
    flags = [item for pair in zip(options, ports, strict=True) for item in pair]
    try:
        up = callisto("up", *flags, "--port-offset", str(offset - 8100), home=home)
        assert up.returncode == 0, up.stdout + up.stderr
        yield SuiteState.load(home), home
    finally:
        down = callisto("down", home=home)
        assert down.returncode == 0, down.stdout + down.stderr
