"""helpdesk: wiring of the service (stateless; instances share PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from fastapi import FastAPI

from callisto_helpdesk import __version__, handlers
from callisto_helpdesk.api import cards as card_api
from callisto_helpdesk.api import contacts, tickets
from callisto_helpdesk.book import ContactBook, read_contacts
from callisto_helpdesk.cards import CallCards
from callisto_helpdesk.cti import Cti
from callisto_helpdesk.desk import TicketDesk, read_categories
from callisto_helpdesk.notifier import Notifier
from callisto_helpdesk.settings import HelpdeskSettings
from callisto_helpdesk.store import Store
from callisto_helpdesk.ticket_store import TicketStore
from callisto_protocol.queues import QueueCallEvent
from callisto_runtime import DurableConsumer, Service
from callisto_runtime.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)


def build(settings: HelpdeskSettings | None = None) -> tuple[Service, ContactBook, FastAPI]:
    settings = settings or HelpdeskSettings()
    service = Service("helpdesk", __version__, settings)
    database = Database(settings.database_url, "helpdesk", MIGRATIONS)
    notifier = Notifier(service.bus)
    book = ContactBook(Store(database), notifier, settings.phone_region)
    desk = TicketDesk(TicketStore(database), book.store, notifier)
    cards = CallCards(database, settings.phone_region)
    consumers = [  # started once PostgreSQL answers; events wait in the stream meanwhile
        DurableConsumer(service.bus, "helpdesk-calls", "cc.call.>", cards.on_event),
        DurableConsumer(service.bus, "helpdesk-queue-steps", QueueCallEvent.subscription(), cards.on_event),
    ]
    initial = read_contacts(settings.initial_contacts())  # a bad file stops the start, loudly
    categories = read_categories()
    tasks: list[asyncio.Task[None]] = []
    loaded = asyncio.Event()
    service.add_check("postgres", database.healthy)
    service.add_check("contacts", loaded.is_set)

    async def prepare() -> None:
        await database.wait_ready()
        await book.load_initial(initial)
        await desk.store.seed_categories(categories)
        for consumer in consumers:
            consumer.start()
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
        for consumer in consumers:
            await consumer.stop()
        await database.close()

    service.include_router(contacts.router(service, book))
    service.include_router(tickets.router(service, desk, Cti(service.bus, desk.store, book.store, cards)))
    service.include_router(card_api.router(service, cards, book, desk))
    return service, book, service.create_app()
