"""snitch: wiring of the service. Stateless: every instance rebuilds its board from the stream; the
history consumers are shared by instances (durable), so each event is stored once. The KPI definitions
are the configuration document ``snitch.kpi`` (seeded from the definitions file): a new version is used
from the next tick on, without a restart."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from callisto_runtime import Service
from callisto_runtime.database import Database
from callisto_runtime.periodic import periodic
from callisto_snitch import __version__
from callisto_snitch.api import kpis, reports, wallboard
from callisto_snitch.board import Board
from callisto_snitch.definitions import Definitions, read_definitions
from callisto_snitch.handlers import history_consumers
from callisto_snitch.history import History
from callisto_snitch.metrics import KpiCollector
from callisto_snitch.notifier import Notifier
from callisto_snitch.realtime import RealTime
from callisto_snitch.reports import Reports
from callisto_snitch.settings import SnitchSettings
from callisto_snitch.tables import Tables

MIGRATIONS = Path(__file__).with_name("migrations")
STATIC = Path(__file__).with_name("static")


log = logging.getLogger(__name__)
STOP_WAIT_S = 5.0


def build(settings: SnitchSettings | None = None) -> tuple[Service, RealTime, FastAPI]:
    settings = settings or SnitchSettings()
    definitions = read_definitions(settings.definitions_path())  # a bad file stops the start, loudly
    service = Service("snitch", __version__, settings)
    database = Database(settings.database_url, "history", MIGRATIONS)
    tables = Tables(settings.redis_url, service.instance)
    notifier = Notifier()
    board = Board(definitions, settings.time_zone)
    live = RealTime(service.bus, board, tables, notifier, service.metrics_registry)

    async def use(new: Definitions, version: int) -> None:
        board.use(new)  # the next tick's figures, colours and lines follow it

    seed = definitions.model_dump(mode="json", exclude_defaults=True)
    service.configuration.own(
        "kpi", Definitions.model_validate, use, lambda: seed, summary=Definitions.summary
    )
    service.metrics_registry.register(KpiCollector(lambda: live.latest, lambda: board.definitions))
    history = History(database)
    consumers = history_consumers(service.bus, history, settings.history_batch)
    tasks: list[asyncio.Task[None]] = []
    service.add_check("redis", tables.healthy)
    service.add_check("postgres", database.healthy)
    service.add_check("board", live.caught_up)

    async def prepare_history() -> None:
        await database.wait_ready()
        for consumer in consumers:
            consumer.start()

    @service.on_startup
    async def startup() -> None:
        database.start()
        await live.start()
        tasks.append(periodic(settings.push_interval_s, live.tick, "snitch-tick", fixed_rate=True))
        tasks.append(periodic(settings.push_interval_s, live.persist, "snitch-tables"))
        service.background("snitch-history", prepare_history)  # a failure is logged and shown in /readyz

    @service.on_shutdown
    async def shutdown() -> None:
        for task in tasks:
            task.cancel()
        # a stop never hangs on a push or a Redis write stuck past its cancellation
        _, stuck = await asyncio.wait(tasks, timeout=STOP_WAIT_S) if tasks else (set(), set())
        for task in stuck:
            log.warning("%s did not stop within %.0f s; left behind", task.get_name(), STOP_WAIT_S)
        for consumer in consumers:
            await consumer.stop()
        await live.stop()
        await tables.close()
        await database.close()

    service.include_router(kpis.router(service, live))
    service.include_router(
        reports.router(service, Reports(database, lambda: board.definitions, settings.time_zone), live)
    )
    service.include_router(wallboard.router(live, notifier, settings.wallboard_key))
    app = service.create_app()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return service, live, app
