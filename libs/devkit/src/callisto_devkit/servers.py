"""Real NATS, Redis and PostgreSQL servers on loopback, started from Debian's binaries.

Each ``start()`` returns when the server answers; ``stop()`` signals exactly the process it started.
PostgreSQL refuses to run as root, so as root it is started as user ``postgres`` through
``setpriv``, which executes in place: the PID we hold is the postmaster's own.
"""

from __future__ import annotations

import glob
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from callisto_devkit.processes import DevkitError, ManagedProcess, free_port, port_in_use, wait_until
from callisto_protocol.access import backup_permissions, nats_permissions, observer_permissions

START_TIMEOUT_S = 30.0


def _require(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise DevkitError(f"{binary} not found: install the Debian package {package} (make test does)")
    return path


@dataclass
class LocalServer(ABC):
    """A server process of ours: started, probed until it answers, stopped by the PID it got."""

    port: int = field(default_factory=free_port)
    log_path: Path | None = None
    process: ManagedProcess | None = None

    name: ClassVar[str] = "server"
    stop_signal: ClassVar[int] = signal.SIGTERM

    def _spawn(self, argv: list[str], default_log: Path) -> None:
        if port_in_use(self.port):
            raise DevkitError(f"port {self.port} for {self.name} is already in use")
        self.process = ManagedProcess.spawn(self.name, argv, self.log_path or default_log)
        wait_until(self._answers, START_TIMEOUT_S, f"{self.name} on port {self.port} to answer")

    def _answers(self) -> bool:
        if self.process is not None and not self.process.alive():
            raise DevkitError(f"{self.name} exited:\n{self.process.tail()}")
        return self.probe()

    @abstractmethod
    def probe(self) -> bool:
        """True once the server answers."""

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(sig=self.stop_signal)
            self.process = None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process = None

    def restart(self) -> None:
        """Stop and start again on the same ports with the same data."""
        self.stop()
        self.start()

    @abstractmethod
    def start(self) -> LocalServer:
        """Start the server and return when it answers."""


@dataclass
class NatsServer(LocalServer):
    """With ``users`` (service name -> password) NATS is closed: each service logs in as itself with
    the permissions of ``callisto_protocol.access``; nobody else gets in."""

    name: ClassVar[str] = "nats"
    monitor_port: int = field(default_factory=free_port)
    store_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="callisto-nats-")))
    users: dict[str, str] | None = None
    observers: tuple[str, ...] = ()  # users among ``users`` that only watch events (tools)
    operators: tuple[str, ...] = ()  # users among ``users`` that back the suite up and restore it

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> NatsServer:
        """Start with JetStream on ``store_dir``: streams and KV survive a restart."""
        binary = _require("nats-server", "nats-server")
        argv = [binary, "-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.monitor_port), "-js",
                "-sd", str(self.store_dir)]  # fmt: skip
        if self.users is not None:
            config = self.store_dir / "users.conf"
            self.store_dir.mkdir(parents=True, exist_ok=True)
            config.write_text(nats_users_config(self.users, self.observers, self.operators))
            config.chmod(0o600)
            argv += ["-c", str(config)]
        self._spawn(argv, self.store_dir / "nats.log")
        return self

    def password(self, service: str) -> str:
        if self.users is None:
            raise DevkitError("this NATS server is open: it has no users")
        if service not in self.users:
            raise DevkitError(f"NATS has no user {service!r}")
        return self.users[service]

    @classmethod
    def closed(
        cls, services: Iterable[str], observers: tuple[str, ...] = (), operators: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> NatsServer:
        """A server whose users are ``services``, ``observers`` and ``operators``, each with a new random
        password."""
        users = {name: secrets.token_urlsafe(24) for name in (*services, *observers, *operators)}
        return cls(users=users, observers=observers, operators=operators, **kwargs)

    def probe(self) -> bool:
        try:
            url = f"http://127.0.0.1:{self.monitor_port}/healthz?js-enabled-only=true"
            with urllib.request.urlopen(url, timeout=0.5) as reply:
                return bool(json.loads(reply.read()).get("status") == "ok")
        except OSError:
            return False


def nats_users_config(
    users: dict[str, str], observers: tuple[str, ...] = (), operators: tuple[str, ...] = ()
) -> str:
    """A nats-server configuration giving each service its user and subject permissions."""

    def permissions(name: str) -> dict[str, Any]:
        if name in observers:
            return observer_permissions(name)
        return backup_permissions(name) if name in operators else nats_permissions(name)

    entries = [
        {"user": name, "password": password, "permissions": permissions(name)}
        for name, password in sorted(users.items())
    ]
    return "authorization: " + json.dumps({"users": entries}, indent=1) + "\n"


def password_variable(service: str) -> str:
    """The environment variable a deployment gives ``service``'s NATS password in: CORE_BUS_NATS_PASSWORD."""
    return service.upper().replace("-", "_") + "_NATS_PASSWORD"


def nats_users_by_reference(services: Iterable[str]) -> str:
    """``nats_users_config`` for deployments: each password a reference to the environment variable
    ``password_variable(service)``, which nats-server resolves at start (deploy/nats)."""
    names = list(services)
    text = nats_users_config({name: "$" + password_variable(name) for name in names})
    for name in names:  # a quoted "$X" is a string; nats-server resolves an unquoted $X from the environment
        variable = password_variable(name)
        text = text.replace(f'"password": "${variable}"', f'"password": ${variable}')
    return text


@dataclass
class RedisServer(LocalServer):
    name: ClassVar[str] = "redis"
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="callisto-redis-")))

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        binary = _require("redis-server", "redis-server")
        argv = [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no",
                "--dir", str(self.data_dir), "--daemonize", "no"]  # fmt: skip
        self._spawn(argv, self.data_dir / "redis.log")
        return self

    def probe(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False


def postgres_bindir() -> Path:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if not candidates:
        raise DevkitError("PostgreSQL not found: install the Debian package postgresql (make test does)")
    return Path(candidates[-1]).parent


def _as_postgres(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise DevkitError("running as root needs the 'postgres' user (Debian package postgresql)") from None
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", *argv]


@dataclass
class PostgresServer(LocalServer):
    name: ClassVar[str] = "postgres"
    stop_signal: ClassVar[int] = signal.SIGINT  # PostgreSQL's fast shutdown
    data_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="callisto-pg-")) / "data")
    database: str = "callisto"

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> PostgresServer:
        bindir = postgres_bindir()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            self.data_dir.parent.chmod(0o755)  # postgres must reach the data folder
            shutil.chown(self.data_dir, "postgres", "postgres")
            self.data_dir.chmod(0o700)
        if not (self.data_dir / "PG_VERSION").exists():
            initdb = [str(bindir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                      "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]  # fmt: skip
            subprocess.run(_as_postgres(initdb), check=True, capture_output=True, timeout=120)
        argv = [str(bindir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port),
                "-k", str(self.data_dir), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=200"]  # fmt: skip
        self._spawn(_as_postgres(argv), self.data_dir.parent / "pg.log")
        self._ensure_database()
        return self

    def _psql(self, sql: str, database: str = "postgres") -> subprocess.CompletedProcess[str]:
        argv = [str(postgres_bindir() / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                "-d", database, "-tAc", sql]  # fmt: skip
        return subprocess.run(argv, capture_output=True, text=True, timeout=30)

    def probe(self) -> bool:
        return self._psql("SELECT 1").returncode == 0

    def create_database(self, name: str) -> str:
        """A new empty database on this server; returns its DSN."""
        if not name.replace("_", "").isalnum():
            raise DevkitError(f"database name {name!r}")
        result = self._psql(f'CREATE DATABASE "{name}"')
        if result.returncode != 0:
            raise DevkitError(f"could not create database {name}: {result.stderr}")
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def _ensure_database(self) -> None:
        if self._psql(f"SELECT 1 FROM pg_database WHERE datname = '{self.database}'").stdout.strip() != "1":
            result = self._psql(f'CREATE DATABASE "{self.database}"')
            if result.returncode != 0:
                raise DevkitError(f"could not create database {self.database}: {result.stderr}")


@dataclass
class RtpEngine(LocalServer):
    """rtpengine in userspace (no kernel module), NG control on ``port``, media on ``media_host`` in
    ``port_min..port_max``, DTMF reports sent to ``dtmf_port``, pcap recordings in ``recording_dir``."""

    name: ClassVar[str] = "rtpengine"
    media_host: str = "127.0.0.1"
    port_min: int = 40000
    port_max: int = 44999
    dtmf_port: int = field(default_factory=free_port)
    work_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="callisto-rtpengine-")))

    @property
    def recording_dir(self) -> Path:
        return self.work_dir / "recordings"

    def start(self) -> RtpEngine:
        binary = _require("rtpengine", "rtpengine-daemon")
        self.recording_dir.mkdir(parents=True, exist_ok=True)
        argv = [binary, "--config-file=none", "--table=-1", f"--interface={self.media_host}",
                f"--listen-ng=127.0.0.1:{self.port}", "--foreground", "--log-stderr", "--log-level=7",
                f"--port-min={self.port_min}", f"--port-max={self.port_max}", "--delete-delay=0",
                f"--recording-dir={self.recording_dir}", "--recording-method=pcap",
                f"--dtmf-log-dest=127.0.0.1:{self.dtmf_port}", "--num-threads=2"]  # fmt: skip
        self._spawn(argv, self.work_dir / "rtpengine.log")
        return self

    def probe(self) -> bool:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(0.5)
                s.sendto(b"probe d7:command4:pinge", ("127.0.0.1", self.port))
                return b"pong" in s.recv(200)
        except OSError:
            return False
