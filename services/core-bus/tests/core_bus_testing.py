"""core-bus in this process on a real NATS server, for its tests."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from callisto_core_bus.app import build
from callisto_core_bus.settings import CoreBusSettings
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_runtime import Mode, Service

BEAT = 0.2


async def eventually(condition, timeout: float = 10.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.03)
    raise AssertionError(f"{what} not met within {timeout} s")


@contextlib.asynccontextmanager
async def core_bus(
    nats_url: str, issuer: TestIssuer, *permissions: str, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Service]]:
    """core-bus, and an HTTP client whose token grants ``permissions`` (all of core-bus's by default)."""
    port = free_port()
    settings = CoreBusSettings(
        mode=Mode.DEVELOPMENT,  # its service account logs in with the development secret
        nats_url=nats_url,
        http_port=port,
        heartbeat_interval_s=BEAT,
        lease_ttl_s=1.0,
        sweep_every_s=0.05,
        list_delta_every_s=0.05,
        list_snapshot_every_s=0.5,
        **overrides,
    )
    service, _, app = build(settings)
    headers = issuer.bearer(*(permissions or ("core-bus.#",)))
    async with serve_in_process(app, port) as base, httpx.AsyncClient(base_url=base, headers=headers) as http:
        await eventually(lambda: service.is_active, what="core-bus active")
        yield http, service
