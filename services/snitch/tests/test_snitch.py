"""snitch on real NATS (JetStream), Redis and PostgreSQL: tables from events, duplicates and
malformed events, Redis flushed, a restart, PostgreSQL away, reports and their errors, metrics, KPI
definitions changed at run time."""

from __future__ import annotations

import asyncio
import io
import subprocess
from typing import Any

import pytest
import redis.asyncio as redis
from bus_testing import connected_bus
from openpyxl import load_workbook
from snitch_testing import a_morning, agent, at, publisher, snitch, step, until

from callisto_devkit.configuration import document_figure, read_version, write_version
from callisto_devkit.issuer import TestIssuer
from callisto_devkit.publishers import Publishers
from callisto_devkit.servers import NatsServer, PostgresServer, RedisServer
from callisto_protocol.agents import AgentState
from callisto_protocol.calls import CallDirection, CallState, CallStateChanged
from callisto_protocol.configuration import ConfigValid, ValidateConfig
from callisto_protocol.envelope import MESSAGE_ID, MESSAGE_TYPE
from callisto_protocol.queues import QueueCallKind
from callisto_runtime import RemoteError

pytestmark = pytest.mark.integration
K = QueueCallKind
KPI_DOCUMENT = "snitch.kpi"


def redis_url(server: RedisServer, db: int) -> str:
    return server.url.rsplit("/", 1)[0] + f"/{db}"


async def publish_all(nats_url: str, events: list[Any]) -> None:
    async with publisher(nats_url) as bus:
        for event in events:
            await bus.publish(event)


def morning_figures(q: dict[str, Any]) -> tuple[Any, ...]:
    return (q["offered"], q["answered"], q["abandoned"], q["short_abandoned"], q["waiting"], q["asa_s"])


async def test_tables_from_events_survive_a_flush_and_a_restart(
    private_nats: NatsServer, redis_server: RedisServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    url = redis_url(redis_server, 3)
    await publish_all(private_nats.url, a_morning()[:8])  # some before snitch starts
    supervisor = token_issuer.bearer("snitch.kpis.read")
    async with snitch(private_nats.url, url, postgres_database) as (http, live, _):
        await publish_all(private_nats.url, a_morning()[8:] + a_morning()[:3])  # the rest, and repeats

        async def emergencies() -> dict[str, Any] | None:
            q = (await http.get("/api/v1/kpis/queues/emergencies", headers=supervisor)).json()
            return q if q["answered"] == 2 and q["abandoned"] == 2 else None

        q = await until(emergencies, "the morning's figures")
        assert morning_figures(q) == (4, 2, 2, 1, 0, 15.5)
        assert q["service_level_answered"] == 0.5  # 6 s in, 25 s out of the 20 s threshold
        assert q["service_level_with_abandons"] == round(1 / 3, 4)  # the 2 s abandon is short
        assert q["aht_s"] == 70.0  # 60 s talk + 10 s wrap-up
        assert q["agents"]["on_call"] == 1 and q["agents"]["not_ready"] == 1
        line = (await http.get("/api/v1/kpis/lines/water", headers=supervisor)).json()
        assert line["waiting"] == 1 and line["offered"] == 5 and line["longest_wait_s"] >= 90

        # the tables in Redis
        r = redis.Redis.from_url(url, decode_responses=True)
        await until(lambda: r.hget("rt:queue:emergencies", "answered"), "rt:queue:emergencies")
        await until(lambda: r.hget("rt:queue:emergencies", "answered"), "the answered count")
        assert (await r.hgetall("rt:agent:agent-1"))["state"] == "on_call"
        assert await r.sismember("rt:lines", "water")

        # Redis flushed while running: everything is written again within a tick or two
        await r.flushdb()
        agent_row = await until(lambda: r.hgetall("rt:agent:agent-2"), "rt:agent:agent-2 again", 5)
        assert agent_row["state"] == "not_ready" and agent_row["reason"] == "training"
        assert (await r.hgetall("rt:queue:emergencies"))["answered"] == "2"
        assert live.tables.rebuilds >= 1

        # errors
        assert (await http.get("/api/v1/kpis/queues/nope", headers=supervisor)).status_code == 404
        assert (await http.get("/api/v1/kpis")).status_code == 401
        agents = (await http.get("/api/v1/agents", headers=supervisor)).json()["agents"]
        assert {a["agent_id"]: a["handled"] for a in agents} == {"agent-1": 2, "agent-2": 0}

        # the metrics are well-formed for Prometheus
        text = (await http.get("/metrics")).text
        assert 'callisto_snitch_queue_answered_calls_today{queue="emergencies"} 2.0' in text
        assert 'callisto_snitch_line_agents{line="water",state="on_call"} 1.0' in text
        assert 'callisto_snitch_queue_service_level_target_ratio{queue="emergencies"} 0.9' in text  # its own
        assert 'callisto_snitch_queue_abandon_target_ratio{queue="billing"} 0.05' in text  # the default
        checked = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout + checked.stderr
        await r.aclose()

    # a restart: today's figures again, from the stream alone
    async with snitch(private_nats.url, url, postgres_database) as (http, _, _):
        q = await until(emergencies, "the figures after a restart")
        assert morning_figures(q) == (4, 2, 2, 1, 0, 15.5)


async def test_a_malformed_event_is_counted_and_skipped(
    private_nats: NatsServer, redis_server: RedisServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    supervisor = token_issuer.bearer("snitch.kpis.read")
    async with snitch(private_nats.url, redis_url(redis_server, 4), postgres_database) as (http, live, _):
        async with publisher(private_nats.url) as bus:
            js = bus.nc.jetstream()
            await js.publish(
                "cc.queue.emergencies.call.enqueued", b'{"queue_id": "emergencies", "step": "enqueued"}',
                headers={MESSAGE_TYPE: "queue.call", MESSAGE_ID: "bad-1"},
            )  # fmt: skip
            await js.publish(
                "cc.queue.emergencies.call.enqueued", b"\xff not json", headers={MESSAGE_ID: "bad-2"}
            )
            await bus.publish(step(K.ENQUEUED, "ok-1", 590))

        async def counted() -> bool:
            q = (await http.get("/api/v1/kpis/queues/emergencies", headers=supervisor)).json()
            return bool(q["offered"] == 1)

        await until(counted, "the good event after the bad ones")
        assert live.malformed == 2
        assert "callisto_bus_rejected" in (await http.get("/metrics")).text


async def test_history_waits_for_postgres_and_loses_nothing(
    private_nats: NatsServer, redis_server: RedisServer, token_issuer: TestIssuer, tmp_path: Any
) -> None:
    """PostgreSQL away for 30 s while events keep coming: they wait in JetStream, then all land."""
    postgres = PostgresServer().start()
    try:
        database = postgres.create_database("history_test")
        async with snitch(private_nats.url, redis_url(redis_server, 5), database) as (http, _, _):
            import asyncpg

            await publish_all(private_nats.url, a_morning())
            conn = await asyncpg.connect(database)
            await until(lambda: conn.fetchval("SELECT count(*) FROM history.queue_log"), "the first rows", 15)
            await conn.close()
            await asyncio.to_thread(postgres.stop)
            more = [step(K.ENQUEUED, f"late-{i}", 520 + i, queue="general") for i in range(50)]
            more += [
                agent("agent-2", 1 + i, AgentState.READY if i % 2 else AgentState.NOT_READY, 520 + i)
                for i in range(20)
            ]
            await publish_all(private_nats.url, more)
            await asyncio.sleep(30)
            assert (await http.get("/readyz")).status_code == 503
            await asyncio.to_thread(postgres.start)
            conn = await until(lambda: _connect(database), "PostgreSQL back", 20)

            async def all_rows() -> bool:
                steps = await conn.fetchval("SELECT count(*) FROM history.queue_log")
                states = await conn.fetchval("SELECT count(*) FROM history.agent_states")
                return bool(steps == 10 + 50 and states == 6 + 20)

            await until(all_rows, "every event of the outage in history", 30)
            # delivered again (replayed by a new consumer): nothing is doubled
            for consumer_name in ("snitch-history-queue-log", "snitch-history-agent-states"):
                async with publisher(private_nats.url) as bus:
                    await bus.nc.jetstream().delete_consumer("CC_EVENTS", consumer_name)
            async with snitch(private_nats.url, redis_url(redis_server, 5), database):
                await asyncio.sleep(3)
            assert await all_rows()
            await conn.close()
    finally:
        postgres.stop()


async def _connect(dsn: str) -> Any:
    import asyncpg

    try:
        return await asyncpg.connect(dsn)
    except (OSError, asyncpg.PostgresError):
        return None


async def test_reports_by_interval_with_a_past_period_and_their_files(
    private_nats: NatsServer, redis_server: RedisServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    manager = token_issuer.bearer("snitch.reports.read")
    async with snitch(private_nats.url, redis_url(redis_server, 6), postgres_database) as (http, _, _):
        await publish_all(private_nats.url, a_morning())
        span = {"from": at(-3600).isoformat(), "to": at(3600).isoformat(), "interval": "hour"}

        async def report() -> dict[str, Any] | None:
            reply = await http.get("/api/v1/reports/queues/emergencies", params=span, headers=manager)
            body = reply.json()
            return (
                body if reply.status_code == 200 and sum(r["answered"] for r in body["rows"]) == 2 else None
            )

        body = await until(report, "the history of the morning", 20)
        assert len(body["rows"]) in (2, 3)  # whole hours around the morning, in UTC
        totals = {
            k: sum(r[k] for r in body["rows"])
            for k in ("offered", "answered", "abandoned", "short_abandoned")
        }
        assert totals == {"offered": 4, "answered": 2, "abandoned": 2, "short_abandoned": 1}
        busy = [r for r in body["rows"] if r["answered"]]
        if len(busy) == 1:  # the morning did not cross an hour
            assert busy[0]["asa_s"] == 15.5 and busy[0]["service_level_answered"] == 0.5

        line = (
            await http.get("/api/v1/reports/lines/water", params={**span, "compare": "week"}, headers=manager)
        ).json()
        assert sum(r["offered"] for r in line["rows"]) == 5
        assert len(line["compare_rows"]) == len(line["rows"]) and not any(
            r["offered"] for r in line["compare_rows"]
        )
        agent_report = (await http.get("/api/v1/reports/agents/agent-1", params=span, headers=manager)).json()
        assert sum(r["answered"] for r in agent_report["rows"]) == 2
        assert sum(r["seconds"].get("wrap_up", 0) for r in agent_report["rows"]) == pytest.approx(10, abs=0.1)

        csv_reply = await http.get(
            "/api/v1/reports/lines/water", params={**span, "format": "csv"}, headers=manager
        )
        assert csv_reply.headers["content-type"].startswith("text/csv")
        assert csv_reply.text.splitlines()[0].startswith("series,bucket,offered,answered")
        xlsx = await http.get(
            "/api/v1/reports/lines/water",
            params={**span, "format": "xlsx", "compare": "month"},
            headers=manager,
        )
        book = load_workbook(io.BytesIO(xlsx.content))
        assert book.sheetnames == ["current", "compared"]
        assert book["current"]["A2"].value == "bucket"
        chart = await http.get(
            "/api/v1/reports/lines/water",
            params={**span, "format": "svg", "compare": "week"},
            headers=manager,
        )
        assert chart.headers["content-type"].startswith("image/svg+xml")
        assert 'class="service-level-compared"' in chart.text and chart.text.count('class="answered"') == len(
            line["rows"]
        )

        # bad requests
        async def problem(path: str, **params: str) -> tuple[int, str]:
            reply = await http.get(path, params={**span, **params}, headers=manager)
            return reply.status_code, reply.json().get("error_id", "")

        assert await problem("/api/v1/reports/queues/nope") == (404, "unknown-queue")
        assert await problem("/api/v1/reports/lines/nope") == (404, "unknown-line")
        assert await problem("/api/v1/reports/agents/nobody") == (404, "unknown-agent")
        assert await problem("/api/v1/reports/lines/water", to=at(-7200).isoformat()) == (
            422,
            "invalid-range",
        )
        too_long = {"from": "2024-01-01T00:00:00", "interval": "15min"}
        assert await problem("/api/v1/reports/lines/water", **too_long) == (422, "invalid-range")
        assert await problem("/api/v1/reports/lines/water", **{"from": "1900-01-01T00:00:00"}) == (
            422,
            "invalid-range",
        )
        assert (await problem("/api/v1/reports/lines/water", interval="week"))[0] == 422
        assert (await problem("/api/v1/reports/lines/water", **{"from": "yesterday"}))[0] == 422
        assert (await http.get("/api/v1/reports/lines/water", params=span)).status_code == 401


async def test_a_poison_event_in_a_history_batch_does_not_hold_the_others(
    private_nats: NatsServer, redis_server: RedisServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    """Reproduced before: a NUL in a caller id failed every history batch it was in, so no history was
    written for the calls after it. The batch is split, the poison becomes a dead letter."""
    import asyncpg

    admin = token_issuer.bearer("#")
    stand_ins = Publishers(private_nats.url)
    calls = [
        CallStateChanged(
            call_id=f"h-{n}", seq=1, state=CallState.CREATED, since=at(600 + n), dialled="311",
            direction=CallDirection.INBOUND, caller="+7\x00912" if n == 2 else f"+4930{n}",
        )
        for n in range(6)
    ]  # fmt: skip
    settings = {"consumer_max_failures": 2, "consumer_retry_delay_s": 0.1}
    async with snitch(private_nats.url, redis_url(redis_server, 6), postgres_database, **settings) as (
        http,
        _,
        _,
    ):
        try:
            for call in calls:
                await stand_ins.publish(call)
        finally:
            await stand_ins.close()
        conn = await asyncpg.connect(postgres_database)
        try:
            stored = "SELECT count(*) FROM history.calls WHERE call_id LIKE 'h-%'"
            await until(lambda: _at_least(conn, stored, 5), "the five good calls in history", 20)

            async def dead() -> list[dict[str, Any]]:
                found = (await http.get("/api/v1/dead-letters", headers=admin)).json()
                return [x for x in found if x["consumer"] == "snitch-history-calls"]

            [letter] = await until(dead, "the poison among the dead letters", 20)
            assert '"h-2"' in letter["body"] and letter["cause"] == "failed"
            assert await conn.fetchval(stored) == 5
        finally:
            await conn.close()


async def _at_least(conn: Any, query: str, wanted: int) -> bool:
    return bool(await conn.fetchval(query) >= wanted)


async def test_new_kpi_definitions_are_used_without_a_restart(
    private_nats: NatsServer, redis_server: RedisServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    """The KPI definitions as the configuration document ``snitch.kpi``: a new version (a line's
    target, a line removed, one added) is used from the next tick, the day's counts kept; a version
    that breaks a rule is refused by the owner with the reason, and one written past that is not used."""
    url = redis_url(redis_server, 7)
    await publish_all(private_nats.url, a_morning())
    supervisor = token_issuer.bearer("snitch.kpis.read")
    async with snitch(private_nats.url, url, postgres_database) as (http, _, _):

        async def line(line_id: str) -> dict[str, Any] | None:
            found = (await http.get(f"/api/v1/kpis/lines/{line_id}", headers=supervisor)).json()
            return found if found.get("offered") == 5 else None

        water = await until(lambda: line("water"), "the water line's figures")
        assert water["service_level"] == round(1 / 3, 4) and water["colours"]["service_level"] == "red"
        seeded, first = await read_version(private_nats.url, KPI_DOCUMENT)
        assert "emergencies" in seeded.body["queues"] and seeded.by == "service:snitch"

        changed = {
            **seeded.body,
            "lines": {
                "water": {"name": "Water hotline", "queues": ["emergencies", "general"],
                          "definition": {"targets": {"service_level": 0.3}}},
                "everything": {"name": "All calls", "queues": ["emergencies", "general", "billing"]},
            },
        }  # fmt: skip
        second = await write_version(private_nats.url, KPI_DOCUMENT, changed, "water's target lowered")

        async def green() -> bool:
            found = await line("water")
            return found is not None and found["colours"]["service_level"] == "green"

        await until(green, "the water line green under its new target")
        everything = await until(lambda: line("everything"), "the new line, with the day's calls")
        assert everything["offered"] == 5 and everything["waiting"] == 1
        assert (await http.get("/api/v1/kpis/lines/billing", headers=supervisor)).status_code == 404
        r = redis.Redis.from_url(url, decode_responses=True)
        try:
            await until(lambda: r.exists("rt:line:everything"), "the new line's table")
            await until(lambda: _gone(r, "billing"), "the removed line's table gone")
        finally:
            await r.aclose()
        text = (await http.get("/metrics")).text
        assert 'callisto_snitch_line_service_level_target_ratio{line="water"} 0.3' in text
        assert document_figure(text, KPI_DOCUMENT) == second

        # a target above 100 %: the owner says why, before anything is written
        broken = {**changed, "defaults": {"targets": {"service_level": 1.5}}}
        async with connected_bus(private_nats.url, "core-bus", "kpi-test") as bus:
            check = ValidateConfig(service="snitch", document=KPI_DOCUMENT, body=broken)
            with pytest.raises(RemoteError) as refused:
                await bus.call(check, ConfigValid, token=token_issuer.token("config.write"), timeout=5)
        assert refused.value.error_id == "invalid-config"
        assert "defaults.targets.service_level" in refused.value.message
        # written past the validation: refused here, the version in use stays
        await write_version(private_nats.url, KPI_DOCUMENT, broken, "past the validation")

        async def refused_once() -> bool:
            text = (await http.get("/metrics")).text
            return document_figure(text, KPI_DOCUMENT, "callisto_config_refused_total") == 1

        await until(refused_once, "the broken version refused")
        assert await green()
        assert first < second


async def _gone(r: redis.Redis, line_id: str) -> bool:
    return not await r.exists(f"rt:line:{line_id}") and not await r.sismember("rt:lines", line_id)
