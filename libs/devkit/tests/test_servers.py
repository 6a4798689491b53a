"""The real servers the fixtures start, and the process guard that stops exactly what was started."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from callisto_devkit.processes import ManagedProcess, proc_start_time
from callisto_devkit.servers import PostgresServer, RedisServer, postgres_bindir

pytestmark = pytest.mark.integration


def redis_command(server: RedisServer, *words: str) -> bytes:
    payload = f"*{len(words)}\r\n" + "".join(f"${len(w)}\r\n{w}\r\n" for w in words)
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as s:
        s.sendall(payload.encode())
        return s.recv(256)


def psql(server: PostgresServer, sql: str) -> str:
    result = subprocess.run(
        [str(postgres_bindir() / "psql"), server.dsn, "-tAc", sql], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_redis_answers(redis_server: RedisServer) -> None:
    assert redis_command(redis_server, "SET", "cc:probe", "1") == b"+OK\r\n"
    assert redis_command(redis_server, "GET", "cc:probe") == b"$1\r\n1\r\n"


def test_postgres_runs_unprivileged_with_the_database_created(postgres_server: PostgresServer) -> None:
    assert psql(postgres_server, "SELECT current_database()") == "callisto"
    assert psql(postgres_server, "SHOW fsync") == "off"
    assert postgres_server.process is not None
    owner = Path(f"/proc/{postgres_server.process.pid}").stat().st_uid
    assert owner != 0  # PostgreSQL refuses root; the PID held is the postmaster's own


@pytest.mark.fault
def test_postgres_restart_keeps_the_data(tmp_path: Path) -> None:
    server = PostgresServer(
        data_dir=Path(os.path.realpath("/tmp")) / f"callisto-pg-restart-{os.getpid()}" / "data"
    )
    try:
        server.start()
        psql(server, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")
        server.restart()
        assert psql(server, "SELECT n FROM kept") == "42"
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(server.data_dir.parent)], check=False)


@pytest.mark.unit
def test_a_process_is_known_by_pid_and_start_time(tmp_path: Path) -> None:
    sleeper = ManagedProcess.spawn(
        "sleeper", [sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "sleeper.log"
    )
    impostor = ManagedProcess("impostor", sleeper.pid, sleeper.start_time + 1, [], str(tmp_path / "x.log"))
    assert sleeper.alive()
    assert not impostor.alive()
    impostor.stop()  # a recorded PID now used by another program is never signalled
    assert sleeper.alive()
    sleeper.stop()
    assert not sleeper.alive()
    assert proc_start_time(sleeper.pid) != sleeper.start_time
