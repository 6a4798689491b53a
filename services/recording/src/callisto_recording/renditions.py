"""A recording's audio as asked for: the stored stereo Ogg Opus, or a rendition made from it once
and kept beside it (sealed as the recording is): WAV or MP3, stereo or both parties mixed into one
channel."""

from __future__ import annotations

import asyncio
from typing import Any

from callisto_recording.encode import Channels, Format, blocks_of, encode_all
from callisto_recording.errors import StorageFailed
from callisto_recording.names import SUFFIX, name_of
from callisto_recording.sealing import DataKey
from callisto_recording.vault import Opened, Vault


async def _render(
    vault: Vault, file: str, name: str, format: Format, channels: Channels, data_key: DataKey | None
) -> None:
    source, target = vault.scratch(".ogg"), vault.scratch(f".{SUFFIX[format]}")
    try:
        await vault.fetch(file, data_key, source)
        await asyncio.to_thread(encode_all, blocks_of(source), target, format, channels)
        await vault.keep_like(name, target, data_key)
    finally:
        source.unlink(missing_ok=True)
        target.unlink(missing_ok=True)


async def audio_of(vault: Vault, row: dict[str, Any], format: Format, channels: Channels) -> Opened:
    data_key = vault.data_key(row["key_id"], row["wrapped_key"])
    name = name_of(row["file"], format, channels)
    audio = await vault.open(name, data_key)
    if audio is None and name != row["file"]:
        await _render(vault, row["file"], name, format, channels, data_key)
        audio = await vault.open(name, data_key)
    if audio is None:
        raise StorageFailed(
            f"recording {row['id']}'s file is missing from {vault.storage.where}", {"recording_id": row["id"]}
        )
    return audio
