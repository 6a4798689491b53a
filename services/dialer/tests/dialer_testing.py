"""The dialer under test: in-process, on a NATS and a fresh PostgreSQL database of the test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_dialer.app import build
from callisto_dialer.hopper import Hopper
from callisto_dialer.settings import DialerSettings
from callisto_runtime import Mode


@contextlib.asynccontextmanager
async def dialer(
    nats_url: str, database_url: str, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Hopper]]:
    port = free_port()
    settings = DialerSettings(
        nats_url=nats_url, http_port=port, database_url=database_url, mode=Mode.DEVELOPMENT,
        **{"tick_s": 10.0, **overrides},  # the runner stays out of tests that move attempts by hand
    )  # fmt: skip
    _, runner, app = build(settings)
    async with serve_in_process(app, port) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
        async with asyncio.timeout(20):
            while (await http.get("/readyz")).status_code != 200:
                await asyncio.sleep(0.05)
        yield http, runner.hopper


def campaign(campaign_id: str = "debtors", **more: Any) -> dict[str, Any]:
    return {
        "id": campaign_id, "name": "Debtors, December", "mode": "predictive", "queue_id": "collections",
        "policy": "ru-230fz", "caller_id": "+74951234567", **more,
    }  # fmt: skip
