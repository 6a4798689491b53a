"""/api/v1/recordings: search, one recording's facts, its audio (Range requests: 206, 416, If-Range;
``?format=wav|mp3`` rendered once and kept beside it, sealed as the recording is) and who listened.
Quality managers and supervisors reach every recording; an operator the recordings of their own
agent's calls. Every listen and download is written down (who, when, which bytes), refusals too. A
legal hold keeps a recording past its retention; a deletion asked for marks it, purged after the
grace (a hold set meanwhile takes the mark away); a purged one answers 410."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import BaseModel, Field

from callisto_protocol.ids import TOKEN_PATTERN
from callisto_recording.encode import MEDIA_TYPE, Channels, Format
from callisto_recording.errors import LinkRefused, RecordingGone, RecordingOnHold
from callisto_recording.links import LinkSigner
from callisto_recording.names import name_of
from callisto_recording.notifier import Notifier
from callisto_recording.ranges import audio_response
from callisto_recording.renditions import audio_of
from callisto_recording.retention import Retention
from callisto_recording.store import RecordingStore
from callisto_runtime import NotFound, Service
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims, PermissionDenied

Id = Annotated[str, PathParam(pattern=TOKEN_PATTERN)]
Token = Annotated[str | None, Query(pattern=TOKEN_PATTERN)]
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
    retention_class: str = Field(description="the retention class it is kept by")
    tier: Literal["store", "archive"]
    held: bool = Field(description="under legal hold: kept past its retention, not deleted")
    purge_after: datetime | None = Field(description="marked for deletion: purged from then on")


class HoldRequest(BaseModel):
    held: bool = Field(description="true sets the hold, false releases it")
    reason: str = Field(min_length=3, max_length=500, description="why (a case, a complaint): audited")


class DeletionRequest(BaseModel):
    reason: str = Field(min_length=3, max_length=500, description="why (an erasure request): audited")


class HoldEntry(BaseModel):
    action: Literal["hold", "release", "delete"]
    reason: str
    by: str
    at: datetime


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


def router(
    service: Service, store: RecordingStore, retention: Retention, links: LinkSigner, notifier: Notifier
) -> APIRouter:
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
        return Recording(
            **row, retention_class=row["class"],
            audio_url=f"{service.http_url}/api/v1/recordings/{row['id']}/audio",
        )  # fmt: skip

    def live(row: dict[str, Any] | None, recording_id: str) -> dict[str, Any]:
        if row is None:
            raise NotFound(f"no recording {recording_id!r}", {"recording_id": recording_id})
        if row["deleted_at"] is not None:
            raise RecordingGone(
                f"recording {recording_id!r} was deleted ({row['purge_reason'] or 'asked for'})",
                {"recording_id": recording_id, "deleted_at": row["deleted_at"].isoformat()},
            )
        return row

    async def found(recording_id: str, claims: Claims, need: Literal["read", "listen"]) -> dict[str, Any]:
        row = await store.get(recording_id)
        only = reach(claims, need)
        if row is None:
            raise NotFound(f"no recording {recording_id!r}", {"recording_id": recording_id})
        if only is not None and row["agent_id"] != only:  # refused, and written down by the caller
            raise PermissionDenied(
                f"recording {recording_id!r} is of another agent's call",
                {"recording_id": recording_id, "permission": f"recording.{need}"},
            )
        return live(row, recording_id)

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

    @api.get("/{recording_id}", summary="One recording's facts", responses=responses(404, 410))
    async def get(recording_id: Id, claims: Claims = signed_in) -> Recording:
        return shown(await found(recording_id, claims, "read"))

    @api.get(
        "/{recording_id}/listens",
        summary="Who listened to or downloaded it, and which part",
        responses=responses(404, 410),
    )
    async def listens(
        recording_id: Id, claims: Claims = service.require("recording.audit.read")
    ) -> list[Listen]:
        await found(recording_id, claims, "read")
        return [Listen(**row) for row in await store.listens(recording_id)]

    @api.post(
        "/{recording_id}/hold",
        summary="Set or release a legal hold (kept past its retention; a deletion asked for is undone)",
        responses=responses(404, 410),
    )
    async def hold(
        recording_id: Id, body: HoldRequest, claims: Claims = service.require("recording.hold")
    ) -> Recording:
        before = live(await store.get(recording_id), recording_id)
        # object storage with object lock holds the object too (first: the row never says more)
        await retention.vault(before["tier"]).storage.legal_hold(before["file"], body.held)
        row = await store.hold(recording_id, body.held, body.reason, who(claims))
        if row is None:  # purged meanwhile
            live(await store.get(recording_id), recording_id)
            raise NotFound(f"no recording {recording_id!r}", {"recording_id": recording_id})
        await notifier.held(row, body.reason, who(claims))
        return shown(row)

    @api.post(
        "/{recording_id}/deletion",
        status_code=202,
        summary="Ask for its deletion: marked now, purged after the grace (a hold meanwhile keeps it)",
        responses=responses(404, 409, 410),
    )
    async def deletion(
        recording_id: Id, body: DeletionRequest, claims: Claims = service.require("recording.delete")
    ) -> Recording:
        purge_after = datetime.now(UTC) + retention.grace
        reason = f"asked by {who(claims)}: {body.reason}"
        row = await store.ask_delete(recording_id, reason, who(claims), purge_after)
        if row is False:
            raise RecordingOnHold(
                f"recording {recording_id!r} is under legal hold: release it first",
                {"recording_id": recording_id},
            )
        if row is None:
            live(await store.get(recording_id), recording_id)
            raise NotFound(f"no recording {recording_id!r}", {"recording_id": recording_id})
        return shown(row)

    @api.get(
        "/{recording_id}/holds",
        summary="Holds set and released and deletions asked for: who, when, why",
        responses=responses(404),
    )
    async def holds(
        recording_id: Id, claims: Claims = service.require("recording.audit.read")
    ) -> list[HoldEntry]:
        if await store.get(recording_id) is None:
            raise NotFound(f"no recording {recording_id!r}", {"recording_id": recording_id})
        return [HoldEntry(**row) for row in await store.holds(recording_id)]

    async def served(row: dict[str, Any], format: Format, channels: Channels, request: Request) -> Response:
        audio = await audio_of(retention.vault(row["tier"]), row, format, channels)
        return audio_response(
            audio, range_header=request.headers.get("range"), if_range=request.headers.get("if-range"),
            etag=f'"{row["sha256"]}-{format}-{channels}"', media_type=MEDIA_TYPE[format],
            filename=name_of(row["file"], format, channels).rsplit("/", 1)[-1],
        )  # fmt: skip

    @api.get(
        "/{recording_id}/audio",
        summary="The audio (Range requests); opus (stored), wav or mp3; stereo or both mixed in one channel",
        response_class=Response,
        responses={**PARTS, **responses(404, 410)},
    )
    async def audio(
        recording_id: Id,
        request: Request,
        format: Format = "opus",
        channels: Channels = "stereo",
        claims: Claims = signed_in,
    ) -> Response:
        wanted = request.headers.get("range")
        try:
            row = await found(recording_id, claims, "listen")
        except (NotFound, PermissionDenied):
            await store.listened(recording_id, who(claims), heard(format, channels), wanted, allowed=False)
            raise
        await store.listened(recording_id, who(claims), heard(format, channels), wanted, allowed=True)
        return await served(row, format, channels, request)

    @api.post(
        "/{recording_id}/link",
        summary="A play link for an <audio> element, signed for the person (an hour)",
        responses=responses(404),
    )
    async def link(
        recording_id: Id, format: Format = "opus", channels: Channels = "stereo", claims: Claims = signed_in
    ) -> PlayLink:
        await found(recording_id, claims, "listen")
        expires, signature = await links.sign(recording_id, format, who(claims))
        asked = {"format": format, "channels": channels, "sub": who(claims), "exp": expires, "sig": signature}
        query = urlencode(asked)
        path = f"v1/recordings/{recording_id}/play?{query}"
        return PlayLink(
            path=path, url=f"{service.http_url}/api/{path}", expires_at=datetime.fromtimestamp(expires, UTC)
        )

    @api.get(
        "/{recording_id}/play",
        summary="The audio through a play link (no token: the link is signed); Range requests",
        response_class=Response,
        responses={**PARTS, **responses(403, 404, 410)},
    )
    async def play(
        recording_id: Id,
        request: Request,
        sub: Annotated[str, Query(min_length=1, max_length=200)],
        exp: Annotated[int, Query(ge=0)],
        sig: Annotated[str, Query(pattern=r"^[0-9a-f]{64}$")],
        format: Format = "opus",
        channels: Channels = "stereo",
    ) -> Response:
        wanted = request.headers.get("range")
        if not await links.valid(recording_id, format, sub, exp, sig):
            await store.listened(recording_id, sub, heard(format, channels), wanted, allowed=False)
            raise LinkRefused("the play link is not valid or has expired", {"recording_id": recording_id})
        row = live(await store.get(recording_id), recording_id)
        await store.listened(recording_id, sub, heard(format, channels), wanted, allowed=True)
        return await served(row, format, channels, request)

    return api


def heard(format: Format, channels: Channels) -> str:
    """The audit's name of what was served: ``opus``, ``wav mono`` ..."""
    return format if channels == "stereo" else f"{format} mono"


def who(claims: Claims) -> str:
    """How the audit names a person: their login (a service account: its subject)."""
    return claims.login or claims.subject
