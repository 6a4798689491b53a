"""/api/v1/recordings: search, one recording's facts, its audio (Range requests: 206, 416, If-Range;
``?format=wav|mp3`` rendered once and kept beside it) and who listened. Quality managers and
supervisors reach every recording; an operator the recordings of their own agent's calls. Every
listen and download is written down (who, when, which bytes), refusals too."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from callisto_protocol.ids import TOKEN_PATTERN
from callisto_recording.encode import MEDIA_TYPE, blocks_of, encode_all
from callisto_recording.store import RecordingStore
from callisto_runtime import NotFound, Service
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims, PermissionDenied

Id = Annotated[str, PathParam(pattern=TOKEN_PATTERN)]
Token = Annotated[str | None, Query(pattern=TOKEN_PATTERN)]


class Recording(BaseModel):
    id: str
    call_id: str
    direction: str
    caller: str
    queue_id: str | None
    agent_id: str | None
    started_at: datetime
    ended_at: datetime | None
    duration_s: float
    segments: int = Field(description="recorded stretches (a pause or a new agent starts another)")
    size: int
    sha256: str
    ratios: dict[str, float] = Field(
        description="customer_talk, agent_talk, silence, overtalk (shares of time)"
    )
    audio_url: str = Field(description="stereo Ogg Opus: the customer left, the agent right")


class Listen(BaseModel):
    subject: str
    at: datetime
    format: str
    range: str | None
    allowed: bool


def router(service: Service, store: RecordingStore, store_dir: Path) -> APIRouter:
    api = APIRouter(prefix="/api/v1/recordings", tags=["recordings"])
    signed_in = service.authenticated()

    def reach(claims: Claims, need: Literal["read", "listen"]) -> str | None:
        """None: every recording; an agent id: that agent's only. Refused otherwise."""
        if claims.can(f"recording.{need}"):
            return None
        if claims.agent_id and claims.can(f"recording.agents.{claims.agent_id}.{need}"):
            return claims.agent_id
        raise PermissionDenied(
            f"permission recording.{need} is required", {"permission": f"recording.{need}"}
        )

    def shown(row: dict[str, Any]) -> Recording:
        return Recording(**row, audio_url=f"{service.http_url}/api/v1/recordings/{row['id']}/audio")

    async def found(recording_id: str, claims: Claims, need: Literal["read", "listen"]) -> dict[str, Any]:
        row = await store.get(recording_id)
        only = reach(claims, need)
        if row is None or (only is not None and row["agent_id"] != only):
            raise NotFound(f"no recording {recording_id!r}", {"recording_id": recording_id})
        return row

    @api.get("", summary="Recordings by call, agent, queue, the caller's number and time, newest first")
    async def search(
        call_id: Token = None,
        agent_id: Token = None,
        queue_id: Token = None,
        number: Annotated[
            str | None, Query(pattern=r"^\+?[0-9]{3,20}$", description="the caller's, ending")
        ] = None,
        since: Annotated[datetime | None, Query(alias="from")] = None,
        until: Annotated[datetime | None, Query(alias="to")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        claims: Claims = signed_in,
    ) -> list[Recording]:
        rows = await store.search(
            call_id=call_id, agent_id=agent_id, queue_id=queue_id, number=number, since=since, until=until,
            limit=limit, only_agent=reach(claims, "read"),
        )  # fmt: skip
        return [shown(row) for row in rows]

    @api.get("/{recording_id}", summary="One recording's facts", responses=responses(404))
    async def get(recording_id: Id, claims: Claims = signed_in) -> Recording:
        return shown(await found(recording_id, claims, "read"))

    @api.get(
        "/{recording_id}/listens",
        summary="Who listened to or downloaded it, and which part",
        responses=responses(404),
    )
    async def listens(
        recording_id: Id, claims: Claims = service.require("recording.audit.read")
    ) -> list[Listen]:
        await found(recording_id, claims, "read")
        return [Listen(**row) for row in await store.listens(recording_id)]

    @api.get(
        "/{recording_id}/audio",
        summary="The audio (Range requests); format opus (stored), wav or mp3 (rendered)",
        response_class=FileResponse,
        responses={
            206: {"description": "part of it"},
            416: {"description": "a range outside it"},
            **responses(404),
        },
    )
    async def audio(
        recording_id: Id, request: Request, format: Literal["opus", "wav", "mp3"] = "opus",
        claims: Claims = signed_in,
    ) -> FileResponse:  # fmt: skip
        wanted = request.headers.get("range")
        try:
            row = await found(recording_id, claims, "listen")
        except (NotFound, PermissionDenied):
            await store.listened(recording_id, claims.subject, format, wanted, allowed=False)
            raise
        stored = store_dir / row["file"]
        path = stored if format == "opus" else await asyncio.to_thread(rendered, stored, format)
        await store.listened(recording_id, claims.subject, format, wanted, allowed=True)
        suffix = "ogg" if format == "opus" else format
        return FileResponse(
            path, media_type=MEDIA_TYPE[format], filename=f"{row['call_id']}.{suffix}",
            content_disposition_type="inline",
        )  # fmt: skip

    return api


def rendered(stored: Path, format: Literal["wav", "mp3"]) -> Path:
    """The stored file in another format, made once and kept beside it."""
    target = stored.with_suffix(f".{format}")
    if not target.exists():
        partial = target.with_name(f".{target.name}.partial")
        encode_all(blocks_of(stored), partial, format)
        partial.replace(target)
    return target
