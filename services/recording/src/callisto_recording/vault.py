"""A storage with sealing: files kept sealed when master keys are set (``sealing.py``), opened
again by range for serving, fetched whole and unsealed for rendering and archiving. A recording's
data key, wrapped, lives in its row (``key_id``, ``wrapped_key``); its renditions (WAV, MP3) are
sealed with the same key and kept beside it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from callisto_recording.sealing import HEADER, DataKey, Header, MasterKeys, opened, seal, sealed_span, unseal
from callisto_recording.settings import RecordingSettings
from callisto_recording.storage import LocalStorage, S3Storage, Storage
from callisto_recording.store import Kept

PIECE = 1 << 20  # served a megabyte at a time at most


@dataclass(frozen=True)
class Opened:
    size: int  # of the audio
    read: Callable[[int, int], Awaitable[bytes]]  # audio bytes [start, end)

    async def pieces(self, start: int, end: int) -> AsyncIterator[bytes]:
        for at in range(start, end, PIECE):
            yield await self.read(at, min(end, at + PIECE))


class Vault:
    def __init__(self, storage: Storage, keys: MasterKeys | None, work_dir: Path) -> None:
        self.storage = storage
        self.keys = keys
        self.work_dir = work_dir

    def scratch(self, suffix: str) -> Path:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        return self.work_dir / f".{uuid.uuid4().hex}{suffix}"

    def data_key(self, key_id: str | None, wrapped: bytes | None) -> DataKey | None:
        if key_id is None or wrapped is None:
            return None
        if self.keys is None:
            raise ValueError("a sealed recording, and no master keys are set")
        return DataKey(self.keys.unwrap(key_id, wrapped), key_id, wrapped)

    async def keep(self, name: str, plain: Path, data_key: DataKey | None = None) -> Kept:
        """Keep a file's audio under ``name``: sealed (with ``data_key``, or a new one) when master
        keys are set."""
        if data_key is None:
            if self.keys is None:
                await self.storage.put(name, plain)
                return Kept(None, None)
            data_key = self.keys.new_data_key()
        sealed = self.scratch(".sealed")
        try:
            await asyncio.to_thread(seal, plain, sealed, data_key.key)
            await self.storage.put(name, sealed)
        finally:
            sealed.unlink(missing_ok=True)
        return Kept(data_key.key_id, data_key.wrapped)

    async def keep_like(self, name: str, plain: Path, data_key: DataKey | None) -> None:
        """Keep a rendition as its recording is kept: sealed with its key, or not sealed."""
        if data_key is None:
            await self.storage.put(name, plain)
        else:
            await self.keep(name, plain, data_key)

    async def open(self, name: str, data_key: DataKey | None) -> Opened | None:
        """The audio under ``name`` for reading by range; None if nothing is kept there. One
        round trip to the storage: the size, or a sealed file's header (which holds the size)."""
        if data_key is None:
            stored = await self.storage.size(name)
            if stored is None:
                return None
            return Opened(stored, lambda start, end: self.storage.read(name, start, end))
        try:
            header = Header.parse(await self.storage.read(name, 0, HEADER))
        except FileNotFoundError:
            return None

        async def read(start: int, end: int) -> bytes:
            first, since, until = sealed_span(header, start, end)
            sealed = await self.storage.read(name, since, until)
            return b"".join(opened(header, data_key.key, first, sealed, start, end))

        return Opened(header.size, read)

    async def fetch(self, name: str, data_key: DataKey | None, target: Path) -> None:
        """The whole audio under ``name``, unsealed, to a local file."""
        if data_key is None:
            await self.storage.fetch(name, target)
            return
        sealed = self.scratch(".sealed")
        try:
            await self.storage.fetch(name, sealed)
            await asyncio.to_thread(unseal, sealed, target, data_key.key)
        finally:
            sealed.unlink(missing_ok=True)

    async def copy_to(self, other: Vault, name: str) -> None:
        """The stored bytes as they are (sealed stays sealed, the same data key) into another vault."""
        scratch = self.scratch(".copy")
        try:
            await self.storage.fetch(name, scratch)
            await other.storage.put(name, scratch)
        finally:
            scratch.unlink(missing_ok=True)


def vaults(settings: RecordingSettings) -> dict[str, Vault]:
    """The store's vault and, when there is an archive tier, the archive's."""
    keys = MasterKeys(settings.master_key_bytes(), settings.master_key_id) if settings.master_key_id else None
    found: dict[str, Vault] = {}
    if settings.storage == "s3":
        secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None

        def bucket(name: str) -> S3Storage:
            return S3Storage(
                bucket=name, prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint_url,
                region=settings.s3_region, access_key_id=settings.s3_access_key_id, secret_access_key=secret,
                server_side_encryption=settings.s3_server_side_encryption or None,
                object_lock=settings.s3_object_lock,
            )  # fmt: skip

        found["store"] = Vault(bucket(settings.s3_bucket), keys, settings.work_dir)
        if settings.archive_s3_bucket:
            found["archive"] = Vault(bucket(settings.archive_s3_bucket), keys, settings.work_dir)
    else:
        found["store"] = Vault(LocalStorage(settings.store_dir), keys, settings.work_dir)
    if "archive" not in found and settings.archive_dir is not None:
        found["archive"] = Vault(LocalStorage(settings.archive_dir), keys, settings.work_dir)
    return found
