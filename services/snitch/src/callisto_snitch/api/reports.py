"""/api/v1/reports: history by interval for a queue, line or agent, with a past period beside it,
as JSON, CSV, XLSX or an SVG chart."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from callisto_protocol.ids import TOKEN_PATTERN
from callisto_runtime import Service
from callisto_snitch.chart import svg
from callisto_snitch.errors import UnknownAgent, UnknownLine, UnknownQueue
from callisto_snitch.export import to_csv, to_xlsx
from callisto_snitch.realtime import RealTime
from callisto_snitch.reports import Compare, Interval, Period, Reports, period

Id = Annotated[str, Path(pattern=TOKEN_PATTERN)]
Kind = Literal["queues", "lines", "agents"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def router(service: Service, reports: Reports, live: RealTime) -> APIRouter:
    api = APIRouter(prefix="/api/v1/reports", tags=["reports"])
    may_read = service.require("snitch.reports.read")

    async def rows(kind: Kind, key: str, span: Period) -> list[dict[str, Any]]:
        definitions = live.board.definitions  # the version in use
        if kind == "lines":
            line = definitions.lines.get(key)
            if line is None:
                raise UnknownLine(f"no line {key!r}", {"line_id": key})
            return await reports.queues(list(line.queues), span, definitions.line(key))
        if kind == "queues":
            if (
                key not in definitions.queues
                and key not in live.board.queues
                and not await reports.known_queue(key)
            ):
                raise UnknownQueue(f"no queue {key!r} in the definitions or the history", {"queue_id": key})
            return await reports.queues([key], span, definitions.queue(key))
        if key not in live.board.agents and not await reports.known_agent(key):
            raise UnknownAgent(f"no agent {key!r} in the history", {"agent_id": key})
        return await reports.agent(key, span)

    async def none() -> None:
        return None

    @api.get("/{kind}/{key}", summary="A report by interval, with a past period beside it")
    async def report(
        kind: Kind,
        key: Id,
        start: Annotated[datetime, Query(alias="from", description="local time, or with an offset")],
        end: Annotated[datetime, Query(alias="to")],
        interval: Interval = Interval.HOUR,
        compare: Compare = Compare.NONE,
        format: Literal["json", "csv", "xlsx", "svg"] = "json",
        _: Any = may_read,
    ) -> Any:
        span = period(start, end, interval, reports.zone)
        current, past = await asyncio.gather(
            rows(kind, key, span),
            none() if compare is Compare.NONE else rows(kind, key, span.shifted(compare)),
        )
        body: dict[str, Any] = {
            "kind": kind.removesuffix("s"), "id": key, "interval": interval.value, "time_zone": reports.zone,
            "from": span.start.isoformat(), "to": span.end.isoformat(), "compare": compare.value,
            "rows": current, "compare_rows": past,
        }  # fmt: skip
        name = f"report-{body['kind']}-{key}-{span.start:%Y%m%d}"
        if format == "csv":
            return Response(
                to_csv(body), media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
            )  # fmt: skip
        if format == "xlsx":
            return Response(
                to_xlsx(body), media_type=XLSX,
                headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
            )  # fmt: skip
        if format == "svg":
            return Response(svg(body), media_type="image/svg+xml")
        # written at once: a year by 15 minutes is 35,000 rows, too many for a field-by-field encoder
        return Response(json.dumps(body, separators=(",", ":")), media_type="application/json")

    return api
