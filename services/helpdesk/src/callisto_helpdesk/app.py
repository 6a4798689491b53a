"""helpdesk: wiring of the service (stateless; instances share PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from fastapi import FastAPI

from callisto_helpdesk import __version__, handlers
from callisto_helpdesk.api import contacts
from callisto_helpdesk.book import ContactBook, read_contacts
from callisto_helpdesk.notifier import Notifier
from callisto_helpdesk.settings import HelpdeskSettings
from callisto_helpdesk.store import Store
from callisto_runtime import Service
from callisto_runtime.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)


def build(settings: HelpdeskSettings | None = None) -> tuple[Service, ContactBook, FastAPI]:
    settings = settings or HelpdeskSettings()
    service = Service("helpdesk", __version__, settings)
    database = Database(settings.database_url, "helpdesk", MIGRATIONS)
    book = ContactBook(Store(database), Notifier(service.bus), settings.phone_region)
    initial = read_contacts(settings.initial_contacts())  # a bad file stops the start, loudly
    tasks: list[asyncio.Task[None]] = []
    loaded = asyncio.Event()
    service.add_check("postgres", database.healthy)
    service.add_check("contacts", loaded.is_set)

    async def prepare() -> None:
        await database.wait_ready()
        await book.load_initial(initial)
        loaded.set()

    @service.on_startup
    async def startup() -> None:
        database.start()
        tasks.append(asyncio.create_task(prepare(), name="helpdesk-prepare"))
        await handlers.subscribe(service.bus, book)

    @service.on_shutdown
    async def shutdown() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await database.close()

    service.include_router(contacts.router(service, book))
    return service, book, service.create_app()
