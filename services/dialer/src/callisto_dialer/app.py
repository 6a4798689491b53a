"""dialer: wiring of the service. Campaigns, lists and do-not-call lists live in PostgreSQL, so every
instance serves the API; the instance holding the lease runs the campaigns (runner.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from callisto_dialer import __version__
from callisto_dialer.api import attempts, campaigns, dnc, report
from callisto_dialer.campaign_desk import CampaignDesk
from callisto_dialer.figures import figures_of
from callisto_dialer.handlers import serve_commands
from callisto_dialer.hopper import Hopper
from callisto_dialer.notifier import Notifier
from callisto_dialer.runner import Runner
from callisto_dialer.settings import DialerSettings
from callisto_dialer.store import DialerStore
from callisto_dialer.webhooks import Webhooks
from callisto_protocol.dialer import CampaignFigures
from callisto_runtime import Service
from callisto_runtime.database import Database
from callisto_runtime.periodic import periodic

MIGRATIONS = Path(__file__).with_name("migrations")


def build(settings: DialerSettings | None = None) -> tuple[Service, Runner, FastAPI]:
    settings = settings or DialerSettings()
    service = Service("dialer", __version__, settings, singleton=True)
    database = Database(settings.database_url, "dialer", MIGRATIONS)
    store = DialerStore(database, webhook=settings.billing_webhook_url is not None)
    hopper = Hopper(database)
    desk = CampaignDesk(store, Notifier(service.bus))
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    webhooks = Webhooks(
        database, settings.billing_webhook_url, secret, settings.webhook_retry_s, service.metrics_registry,
        report_url=f"{service.http_url}/api/v1/campaigns/{{campaign_id}}/report",
    )  # fmt: skip
    runner = Runner(service, store, hopper, desk, webhooks)
    tasks: list[asyncio.Task[None]] = []
    service.add_check("postgres", database.healthy)

    @service.on_startup
    async def startup() -> None:
        database.start()
        await serve_commands(service, store)
        await runner.start()
        tasks.append(periodic(settings.tick_s, runner.tick, "dialer-runner"))

    @service.on_role_change
    async def role(active: bool) -> None:
        await (runner.activate() if active else runner.deactivate())

    @service.on_shutdown
    async def shutdown() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.deactivate()
        await database.close()

    async def live(campaign: dict[str, Any]) -> CampaignFigures:
        return await figures_of(campaign, hopper, runner.floors, datetime.now(UTC))

    service.include_router(campaigns.router(service, desk, store, settings, live))
    service.include_router(dnc.router(service, store))
    service.include_router(attempts.router(service, store, hopper, runner))
    service.include_router(report.router(service, store, database))
    return service, runner, service.create_app()
