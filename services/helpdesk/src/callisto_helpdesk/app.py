"""helpdesk: wiring of the service (stateless; instances share PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI

from callisto_helpdesk import __version__, handlers
from callisto_helpdesk.alerts import AlertIntake, AlertRules, AlertRulesDocument, read_rules
from callisto_helpdesk.api import attachments as attachment_api
from callisto_helpdesk.api import cards as card_api
from callisto_helpdesk.api import confirm, contacts, intake, sla, tickets
from callisto_helpdesk.api import notifications as notification_api
from callisto_helpdesk.attachments import Attachments
from callisto_helpdesk.book import ContactBook, read_contacts
from callisto_helpdesk.cards import CallCards
from callisto_helpdesk.classification import Classification
from callisto_helpdesk.cti import Cti
from callisto_helpdesk.desk import SYSTEM, TicketDesk, read_categories
from callisto_helpdesk.lifecycle import Action
from callisto_helpdesk.mail_intake import MailIntake, serve_smtp
from callisto_helpdesk.mailer import Mailer, SmtpSettings
from callisto_helpdesk.metrics import HelpdeskMetrics
from callisto_helpdesk.notices import Notices
from callisto_helpdesk.notifier import Notifier
from callisto_helpdesk.settings import HelpdeskSettings
from callisto_helpdesk.sla_engine import BATCH, SlaEngine
from callisto_helpdesk.sla_policies import PolicyStore
from callisto_helpdesk.staff import StaffDirectory, read_staff
from callisto_helpdesk.store import Store
from callisto_helpdesk.ticket_store import TicketStore
from callisto_helpdesk.tickets import ActionIn
from callisto_protocol.queues import CallDisposed, QueueCallEvent
from callisto_protocol.recordings import RecordingAvailable, RecordingDeleted
from callisto_runtime import DurableConsumer, Service
from callisto_runtime.database import Database
from callisto_runtime.periodic import periodic

MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger(__name__)


def build(settings: HelpdeskSettings | None = None) -> tuple[Service, ContactBook, FastAPI]:
    settings = settings or HelpdeskSettings()
    service = Service("helpdesk", __version__, settings)
    database = Database(settings.database_url, "helpdesk", MIGRATIONS)
    notifier = Notifier(service.bus)
    notices = Notices(settings.mail_domain)
    metrics = HelpdeskMetrics(service.metrics_registry)
    policies = PolicyStore(database)
    staff = StaffDirectory(database)
    book = ContactBook(Store(database), notifier, settings.phone_region)
    desk = TicketDesk(
        TicketStore(database), book.store, notifier, notices, policies,
        public_url=settings.advertised_url(settings.http_port),
        confirmation_timeout_s=settings.confirmation_timeout_s,
    )  # fmt: skip
    classification = Classification(
        database, metrics, settings.classifier_threshold, settings.classifier_min_samples
    )
    desk.classify = classification.suggest
    engine = SlaEngine(database, policies, notices, metrics, time.time, notifier.ticket)
    smtp = SmtpSettings(
        settings.smtp_host, settings.smtp_port, settings.mail_from, settings.intake_address,
        settings.smtp_username,
        settings.smtp_password.get_secret_value() if settings.smtp_password else None, settings.smtp_starttls,
    )  # fmt: skip
    mailer = Mailer(database, service.bus, smtp, metrics)
    attachments = Attachments(database, settings.max_attachment_bytes)
    first_rules = read_rules()  # a bad file stops the start
    alerts = AlertIntake(desk, notices, AlertRules.of(first_rules), metrics)

    async def use_rules(document: AlertRulesDocument, version: int) -> None:
        alerts.rules = AlertRules.of(document)  # the next alert follows them

    service.configuration.own(
        "alert-rules", AlertRulesDocument.model_validate, use_rules,
        lambda: first_rules.model_dump(mode="json"), summary=AlertRulesDocument.summary,
    )  # fmt: skip
    mail = MailIntake(desk, attachments, notices, metrics)
    cards = CallCards(database, settings.phone_region)
    consumers = [  # started once PostgreSQL answers; events wait in the stream meanwhile
        DurableConsumer(service.bus, "helpdesk-calls", "cc.call.>", cards.on_event),
        DurableConsumer(service.bus, "helpdesk-queue-steps", QueueCallEvent.subscription(), cards.on_event),
        DurableConsumer(
            service.bus, "helpdesk-recordings", RecordingAvailable.subscription(), cards.on_event
        ),
        DurableConsumer(
            service.bus, "helpdesk-recording-deletions", RecordingDeleted.subscription(), cards.on_event
        ),
        DurableConsumer(service.bus, "helpdesk-dispositions", CallDisposed.subscription(), cards.on_event),
    ]
    initial = read_contacts(settings.initial_contacts())  # a bad file stops the start, loudly
    people = read_staff(settings.initial_staff())
    categories = read_categories()
    tasks: list[asyncio.Task[None]] = []
    servers: list[asyncio.Server] = []
    loaded = asyncio.Event()
    service.add_check("postgres", database.healthy)
    service.add_check("contacts", loaded.is_set)

    async def expire(ticket_id: str) -> object:
        return await desk.act(ticket_id, ActionIn(action=Action.EXPIRE, note="no answer in time"), SYSTEM)

    async def watch_deadlines() -> None:
        while await engine.tick() == BATCH:
            pass
        await engine.expire_confirmations(expire)

    async def deliver() -> None:
        while await mailer.tick():
            pass

    def every(seconds: float, work: Callable[[], Awaitable[None]], what: str) -> None:
        tasks.append(periodic(seconds, work, what))

    async def prepare() -> None:
        await database.wait_ready()
        await book.load_initial(initial)
        await desk.store.seed_categories(categories)
        await policies.seed()
        await staff.seed(people)
        for consumer in consumers:
            consumer.start()
        if settings.intake_smtp_port:
            servers.append(
                await serve_smtp(
                    mail,
                    settings.intake_smtp_host,
                    settings.intake_smtp_port,
                    settings.max_attachment_bytes * 2,
                )
            )
        every(settings.sla_tick_s, watch_deadlines, "helpdesk-sla")
        every(1.0, deliver, "helpdesk-notifications")
        every(settings.classifier_retrain_s, classification.retrain_quietly, "helpdesk-classifier")
        loaded.set()
        await classification.retrain()

    @service.on_startup
    async def startup() -> None:
        database.start()
        service.background("helpdesk-prepare", prepare)  # a failure is logged and shown in /readyz
        await handlers.subscribe(service.bus, book)

    @service.on_shutdown
    async def shutdown() -> None:
        for server in servers:
            server.close()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for consumer in consumers:
            await consumer.stop()
        await database.close()

    service.include_router(contacts.router(service, book))
    service.include_router(tickets.router(service, desk, Cti(service.bus, desk.store, book.store, cards)))
    service.include_router(card_api.router(service, cards, book, desk))
    service.include_router(attachment_api.router(service, attachments, cards, desk.store))
    service.include_router(sla.router(service, policies, staff))
    service.include_router(intake.router(service, alerts, classification, database, settings.time_zone))
    service.include_router(confirm.router(desk))
    service.include_router(notification_api.router(service, mailer))
    return service, book, service.create_app()
