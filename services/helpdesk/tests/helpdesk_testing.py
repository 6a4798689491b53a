"""helpdesk under test: in-process, on a NATS and a fresh PostgreSQL database of the test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_helpdesk.app import build
from callisto_helpdesk.book import ContactBook
from callisto_helpdesk.settings import HelpdeskSettings
from callisto_runtime import Mode, Service


@contextlib.asynccontextmanager
async def helpdesk(
    nats_url: str, database_url: str, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Service, ContactBook]]:
    port = free_port()
    settings = HelpdeskSettings(
        nats_url=nats_url, http_port=port, database_url=database_url, mode=Mode.DEVELOPMENT, **overrides
    )
    service, book, app = build(settings)
    async with serve_in_process(app, port) as base, httpx.AsyncClient(base_url=base) as http:
        for _ in range(300):
            if (await http.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.05)
        yield http, service, book
