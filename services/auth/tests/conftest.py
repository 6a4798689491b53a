"""The auth service under test: in-process, development mode, on the session's NATS and a fresh
PostgreSQL database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from callisto_auth.app import build
from callisto_auth.settings import AuthSettings
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer
from callisto_runtime import Mode, Service


@pytest.fixture
async def auth(
    nats_server: NatsServer, postgres_database: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Service]]:
    port = free_port()
    settings = AuthSettings(
        nats_url=nats_server.url,
        http_port=port,
        database_url=postgres_database,
        mode=Mode.DEVELOPMENT,
        lockout_failures=3,
        key_publish_ahead_s=1.0,
        max_body_bytes=4096,
    )
    service, _, app = build(settings)
    async with serve_in_process(app, port) as base, httpx.AsyncClient(base_url=base) as http:
        for _ in range(200):
            if (await http.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.05)
        yield http, service
