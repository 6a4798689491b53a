"""A recording's audio as asked for: the stored Ogg Opus, or a WAV or MP3 rendition made from it
once and kept beside it (sealed as the recording is)."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from callisto_recording.encode import MEDIA_TYPE, blocks_of, encode_all
from callisto_recording.errors import StorageFailed
from callisto_recording.sealing import DataKey
from callisto_recording.vault import Opened, Vault

Format = Literal["opus", "wav", "mp3"]
SUFFIX = {"opus": "ogg", "wav": "wav", "mp3": "mp3"}


def name_of(file: str, format: Format) -> str:
    return file if format == "opus" else f"{file.rsplit('.', 1)[0]}.{SUFFIX[format]}"


def media_type(format: Format) -> str:
    return MEDIA_TYPE[format]


async def _render(vault: Vault, file: str, name: str, format: Format, data_key: DataKey | None) -> None:
    source, target = vault.scratch(".ogg"), vault.scratch(f".{SUFFIX[format]}")
    try:
        await vault.fetch(file, data_key, source)
        await asyncio.to_thread(encode_all, blocks_of(source), target, format)
        await vault.keep_like(name, target, data_key)
    finally:
        source.unlink(missing_ok=True)
        target.unlink(missing_ok=True)


async def audio_of(vault: Vault, row: dict[str, Any], format: Format) -> Opened:
    data_key = vault.data_key(row["key_id"], row["wrapped_key"])
    name = name_of(row["file"], format)
    audio = await vault.open(name, data_key)
    if audio is None and format != "opus":
        await _render(vault, row["file"], name, format, data_key)
        audio = await vault.open(name, data_key)
    if audio is None:
        raise StorageFailed(
            f"recording {row['id']}'s file is missing from {vault.storage.where}", {"recording_id": row["id"]}
        )
    return audio
