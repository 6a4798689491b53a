"""/api/v1/recordings: search, one recording's facts, its audio (Range requests: 206, 416, If-Range;
``?format=wav|mp3`` rendered once and kept beside it) and who listened. Quality managers and
supervisors reach every recording; an operator the recordings of their own agent's calls. Every
listen and download is written down (who, when, which bytes), refusals too."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from callisto_protocol.ids import TOKEN_PATTERN
from callisto_recording.encode import MEDIA_TYPE, blocks_of, encode_all
from callisto_recording.errors import LinkRefused
from callisto_recording.links import LinkSigner
from callisto_recording.store import RecordingStore
from callisto_runtime import NotFound, Service
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims, PermissionDenied

Id = Annotated[str, PathParam(pattern=TOKEN_PATTERN)]
Token = Annotated[str | None, Query(pattern=TOKEN_PATTERN)]
Format = Literal["opus", "wav", "mp3"]
PARTS: dict[int | str, dict[str, Any]] = {
    206: {"description": "part of it"}, 416: {"description": "a range outside it"},
}  # fmt: skip


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
    spans: list[tuple[float, float]] = Field(
        description="recorded stretches, seconds from the start (one per segment); the gaps are pauses"
    )
    ratios: dict[str, float] = Field(
        description="customer_talk, agent_talk, silence, overtalk (shares of time)"
    )
    audio_url: str = Field(description="stereo Ogg Opus: the customer left, the agent right")


class PlayLink(BaseModel):
    path: str = Field(
        description="the play route's path below /api/ (through core-bus: /svc/recording/api/<path>)"
    )
    url: str = Field(description="the same at this instance")
    expires_at: datetime


class Listen(BaseModel):
    subject: str
    at: datetime
    format: str
    range: str | None
    allowed: bool


def router(service: Service, store: RecordingStore, store_dir: Path, links: LinkSigner) -> APIRouter:
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

    async def served(row: dict[str, Any], format: Format) -> FileResponse:
        stored = store_dir / row["file"]
        path = stored if format == "opus" else await asyncio.to_thread(rendered, stored, format)
        suffix = "ogg" if format == "opus" else format
        return FileResponse(
            path, media_type=MEDIA_TYPE[format], filename=f"{row['call_id']}.{suffix}",
            content_disposition_type="inline",
        )  # fmt: skip

    @api.get(
        "/{recording_id}/audio",
        summary="The audio (Range requests); format opus (stored), wav or mp3 (rendered)",
        response_class=FileResponse,
        responses={**PARTS, **responses(404)},
    )
    async def audio(
        recording_id: Id, request: Request, format: Format = "opus", claims: Claims = signed_in
    ) -> FileResponse:
        wanted = request.headers.get("range")
        try:
            row = await found(recording_id, claims, "listen")
        except (NotFound, PermissionDenied):
            await store.listened(recording_id, who(claims), format, wanted, allowed=False)
            raise
        await store.listened(recording_id, who(claims), format, wanted, allowed=True)
        return await served(row, format)

    @api.post(
        "/{recording_id}/link",
        summary="A play link for an <audio> element, signed for the person (an hour)",
        responses=responses(404),
    )
    async def link(recording_id: Id, format: Format = "opus", claims: Claims = signed_in) -> PlayLink:
        await found(recording_id, claims, "listen")
        expires, signature = await links.sign(recording_id, format, who(claims))
        query = urlencode({"format": format, "sub": who(claims), "exp": expires, "sig": signature})
        path = f"v1/recordings/{recording_id}/play?{query}"
        return PlayLink(
            path=path, url=f"{service.http_url}/api/{path}", expires_at=datetime.fromtimestamp(expires, UTC)
        )

    @api.get(
        "/{recording_id}/play",
        summary="The audio through a play link (no token: the link is signed); Range requests",
        response_class=FileResponse,
        responses={**PARTS, **responses(403, 404)},
    )
    async def play(
        recording_id: Id,
        request: Request,
        sub: Annotated[str, Query(min_length=1, max_length=200)],
        exp: Annotated[int, Query(ge=0)],
        sig: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")],
        format: Format = "opus",
    ) -> FileResponse:
        wanted = request.headers.get("range")
        if not await links.valid(recording_id, format, sub, exp, sig):
            await store.listened(recording_id, sub, format, wanted, allowed=False)
            raise LinkRefused("the play link is not valid or has expired", {"recording_id": recording_id})
        row = await store.get(recording_id)
        if row is None:
            raise NotFound(f"no recording {recording_id!r}", {"recording_id": recording_id})
        await store.listened(recording_id, sub, format, wanted, allowed=True)
        return await served(row, format)

    return api


def who(claims: Claims) -> str:
    """How the audit names a person: their login (a service account: its subject)."""
    return claims.login or claims.subject


def rendered(stored: Path, format: Format) -> Path:
    """The stored file in another format, made once and kept beside it."""
    target = stored.with_suffix(f".{format}")
    if not target.exists():
        partial = target.with_name(f".{target.name}.partial")
        encode_all(blocks_of(stored), partial, format)
        partial.replace(target)
    return target
