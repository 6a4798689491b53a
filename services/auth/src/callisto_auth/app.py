"""auth: wiring of the service (stateless; instances share PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from callisto_auth import __version__, handlers
from callisto_auth.accounts import Accounts, utcnow
from callisto_auth.api import admin, service_accounts, tokens, users
from callisto_auth.directory import Directory
from callisto_auth.notifier import AuditTrail
from callisto_auth.settings import AuthSettings
from callisto_auth.store import Store
from callisto_runtime import Mode, Service
from callisto_runtime.database import Database
from callisto_runtime.periodic import periodic

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")


def build(settings: AuthSettings | None = None) -> tuple[Service, Accounts, FastAPI]:
    settings = settings or AuthSettings()
    service = Service("auth", __version__, settings)
    database = Database(settings.database_url, "auth", MIGRATIONS)
    store = Store(database)
    trail = AuditTrail(store, service.bus, utcnow)
    accounts = Accounts(store, trail, settings)
    directory = Directory(store, trail, settings, utcnow)
    prepared = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    service.add_check("postgres", database.healthy)
    service.add_check("keys", prepared.is_set)

    async def own_keys() -> dict[str, Any]:  # auth verifies with the keys it holds, not over the bus
        await accounts.load_keys()
        return accounts.jwks()

    service.verifier.fetch = own_keys

    async def prepare() -> None:
        """Once PostgreSQL answers: load (or create) the signing keys and the first accounts."""
        await database.wait_ready()
        await accounts.load_keys()
        service.verifier.load(accounts.jwks())

        async def reload_keys() -> None:  # another instance may have rotated: know it before it signs
            await accounts.load_keys()
            service.verifier.load(accounts.jwks())

        tasks.append(periodic(max(0.5, settings.key_publish_ahead_s / 3), reload_keys, "auth-keys"))
        password = await directory.bootstrap(development=settings.mode is Mode.DEVELOPMENT)
        if password is not None:
            message = (
                f"auth: first start: administrator 'admin' created with password {password} (shown once)"
            )
            print(message, file=sys.stderr, flush=True)
        if settings.service_secrets_dir is not None:
            made = await directory.seed_service_accounts(settings.service_secrets_dir)
            if made:
                log.info("service accounts made from %s: %s", settings.service_secrets_dir, ", ".join(made))
        prepared.set()

    @service.on_startup
    async def startup() -> None:
        database.start()
        service.background("auth-prepare", prepare)  # a failure is logged and shown in /readyz
        await handlers.subscribe(service.bus, accounts, directory)

    @service.on_shutdown
    async def shutdown() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await database.close()

    service.include_router(tokens.router(accounts))
    service.include_router(users.router(service, directory))
    service.include_router(service_accounts.router(service, directory))
    service.include_router(admin.router(service, accounts))
    return service, accounts, service.create_app()
