"""pytest fixtures: real NATS, Redis and PostgreSQL, started once per test session on free loopback
ports (only when a test asks for them) and stopped by PID at the end; and helpers to run a service
in-process or as a subprocess."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import ManagedProcess, free_port, wait_until
from callisto_devkit.servers import NatsServer, PostgresServer, RedisServer, RtpEngine
from callisto_runtime.service import KEEP_ALIVE_S


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    server = NatsServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
async def redis_url(redis_server: RedisServer) -> str:
    """The session's Redis, emptied for the test."""
    client = redis.Redis.from_url(redis_server.url)
    await client.flushdb()
    await client.aclose()
    return redis_server.url


@pytest.fixture(scope="session")
def rtpengine() -> Iterator[RtpEngine]:
    server = RtpEngine().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> str:
    """The DSN of an empty database of the test's own, on the session's PostgreSQL."""
    return postgres_server.create_database(f"test_{os.urandom(6).hex()}")


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[NatsServer]:
    """A NATS server of the test's own, for tests that stop or restart it."""
    server = NatsServer(store_dir=tmp_path / "nats").start()
    yield server
    server.stop()


@contextlib.asynccontextmanager
async def serve_in_process(
    app: Any, port: int | None = None, trusted_proxies: str = ""
) -> AsyncIterator[str]:
    """Run an ASGI app (lifespan included) with uvicorn in this event loop, as ``run()`` does (forwarded
    headers believed from ``trusted_proxies`` only); yields its base URL."""
    import uvicorn

    port = port or free_port()

    class QuietServer(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:  # the test runner keeps its own signal handlers
            yield

    # like run(): connections still open after a few seconds (wallboard screens) do not hold up the stop
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, lifespan="on", timeout_graceful_shutdown=5,
        timeout_keep_alive=KEEP_ALIVE_S,
        proxy_headers=bool(trusted_proxies), forwarded_allow_ips=trusted_proxies,
    )  # fmt: skip
    server = QuietServer(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


def spawn_service(module: str, env: dict[str, str], log_path: Path) -> ManagedProcess:
    """Start ``python -m module`` as a subprocess with ``env`` added; stop it with ``.stop()``."""
    full_env = {**os.environ, **env}
    return ManagedProcess.spawn(module, [sys.executable, "-m", module], log_path, env=full_env)


def wait_http(
    url: str, timeout: float = 20.0, status: int = 200, process: ManagedProcess | None = None
) -> None:
    import httpx

    def answered() -> bool:
        if process is not None and not process.alive():
            raise RuntimeError(f"{process.name} exited:\n{process.tail(40)}")
        try:
            return httpx.get(url, timeout=0.5).status_code == status
        except httpx.HTTPError:
            return False

    wait_until(answered, timeout, f"{url} to answer {status}")


@pytest.fixture
def token_issuer(private_nats: NatsServer) -> Iterator[TestIssuer]:
    """A TestIssuer answering on ``private_nats`` from a thread of its own (so that synchronous tests
    may block); core-bus's account may read everything of core-bus and drain instances, as auth
    grants it by default."""
    issuer = TestIssuer({"core-bus": ["core-bus.#", "*.instance.drain"]})
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="token-issuer", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(issuer.start(private_nats.url), loop).result(15)
    try:
        yield issuer
    finally:
        asyncio.run_coroutine_threadsafe(issuer.stop(), loop).result(15)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()
