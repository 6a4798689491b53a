"""HTTP Range requests over any stored audio (RFC 9110 §14): one range (``bytes=a-b``, ``a-``,
``-n``) answered 206 with Content-Range; a range beyond the end 416; several ranges, or an If-Range
that no longer matches, the whole (200). The ETag is the audio's SHA-256, so a validator survives a
move to the archive or a change of storage."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

from fastapi.responses import Response, StreamingResponse

from callisto_recording.vault import Opened

ONE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class Unsatisfiable(Exception):
    pass


def wanted_span(header: str | None, size: int) -> tuple[int, int] | None:
    """[start, end) asked for; None: the whole. Raises Unsatisfiable for a range beyond the end."""
    if not header:
        return None
    found = ONE_RANGE.match(header.strip())
    if found is None:  # several ranges, or not bytes: the whole is a valid answer
        return None
    first, last = found.groups()
    if not first and not last:
        return None
    if not first:  # the last n bytes
        count = int(last)
        if count == 0:
            raise Unsatisfiable
        return max(0, size - count), size
    start = int(first)
    end = min(size, int(last) + 1) if last else size
    if start >= size or end <= start:
        raise Unsatisfiable
    return start, end


def audio_response(
    audio: Opened, *, range_header: str | None, if_range: str | None, etag: str, media_type: str,
    filename: str,
) -> Response:  # fmt: skip
    headers = {
        "accept-ranges": "bytes", "etag": etag,
        "content-disposition": f'inline; filename="{filename}"', "cache-control": "private, max-age=3600",
    }  # fmt: skip
    if if_range is not None and if_range.strip() != etag:
        range_header = None  # changed since the client's copy: the whole
    try:
        span = wanted_span(range_header, audio.size)
    except Unsatisfiable:
        return Response(status_code=416, headers={**headers, "content-range": f"bytes */{audio.size}"})
    start, end = span or (0, audio.size)

    async def body() -> AsyncIterator[bytes]:
        async for piece in audio.pieces(start, end):
            yield piece

    headers["content-length"] = str(end - start)
    if span is None:
        return StreamingResponse(body(), status_code=200, media_type=media_type, headers=headers)
    headers["content-range"] = f"bytes {start}-{end - 1}/{audio.size}"
    return StreamingResponse(body(), status_code=206, media_type=media_type, headers=headers)
