"""The wallboard page (/wallboard?lines=a,b&queues=c), its socket and the reports page."""

from __future__ import annotations

import secrets
from pathlib import Path

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse

from callisto_runtime.problems import responses
from callisto_snitch.errors import SnitchError, UnknownLine, UnknownQueue, WrongWallboardKey
from callisto_snitch.notifier import Notifier, Selection
from callisto_snitch.realtime import RealTime

STATIC = Path(__file__).resolve().parents[1] / "static"


def _ids(text: str | None) -> tuple[str, ...]:
    return tuple(i for i in (text or "").split(",") if i)


def router(live: RealTime, notifier: Notifier, key: str | None) -> APIRouter:
    api = APIRouter(tags=["wallboard"])

    def selection(lines: str | None, queues: str | None, given_key: str | None) -> Selection:
        definitions = live.board.definitions  # the version in use
        if key is not None and not secrets.compare_digest(given_key or "", key):
            raise WrongWallboardKey("this wallboard wants its key (?key=...)")
        chosen = Selection(_ids(lines), _ids(queues))
        for line_id in chosen.lines:
            if line_id not in definitions.lines:
                raise UnknownLine(f"no line {line_id!r}", {"line_id": line_id})
        for queue_id in chosen.queues:
            if queue_id not in live.latest["queues"] and queue_id not in definitions.queues:
                raise UnknownQueue(f"no queue {queue_id!r}", {"queue_id": queue_id})
        if not chosen.lines and not chosen.queues:  # everything: the lines, else the queues
            if definitions.lines:
                return Selection(tuple(definitions.lines), ())
            return Selection((), tuple(live.latest["queues"]))
        return chosen

    @api.get(
        "/wallboard", summary="The wallboard page", response_class=FileResponse, responses=responses(403, 404)
    )
    async def page(
        lines: str | None = Query(default=None, max_length=2000, description="line ids, comma-separated"),
        queues: str | None = Query(default=None, max_length=2000, description="queue ids, comma-separated"),
        key: str | None = Query(default=None, max_length=200),
    ) -> FileResponse:
        selection(lines, queues, key)  # unknown ids: 404 now rather than an empty screen
        return FileResponse(STATIC / "wallboard.html", headers={"Cache-Control": "no-store"})

    @api.websocket("/wallboard/ws")
    async def socket(
        socket: WebSocket, lines: str | None = None, queues: str | None = None, key: str | None = None
    ) -> None:
        await socket.accept()
        try:
            chosen = selection(lines, queues, key)
        except SnitchError as exc:
            await socket.send_json({"error": exc.message})
            await socket.close(code=4400)
            return
        await socket.send_json(chosen.pick(live.latest, live.status()))
        notifier.add(socket, chosen)
        try:
            while True:
                await socket.receive_text()  # screens say nothing; this notices them leave
        except WebSocketDisconnect:
            pass
        finally:
            notifier.remove(socket)

    @api.get("/reports", summary="The reports page", response_class=FileResponse)
    async def reports_page() -> FileResponse:
        return FileResponse(STATIC / "reports.html")

    return api
