"""Where recordings' bytes live: a local directory, or S3-compatible object storage. Both keep a
file by key (``2026/12/07/<call>.ogg``), give back a range of its bytes, fetch it whole, delete it,
and (object storage with object lock) mirror a legal hold on it. Nothing here knows of sealing: the
vault (``vault.py``) seals and opens.

S3 calls are blocking (boto3) and run in threads; a put is a managed upload (multipart past 8 MB)
with server-side encryption when asked."""

from __future__ import annotations

import asyncio
import os
import shutil
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from callisto_recording.errors import StorageFailed


class Storage(ABC):
    where: str  # for logs and errors

    @abstractmethod
    async def put(self, key: str, source: Path) -> None:
        """Keep ``source``'s bytes under ``key``, durably, replacing what was there."""

    @abstractmethod
    async def size(self, key: str) -> int | None:
        """The size kept under ``key``; None if nothing is."""

    @abstractmethod
    async def read(self, key: str, start: int, end: int) -> bytes:
        """Bytes [start, end) of what is kept under ``key``."""

    @abstractmethod
    async def fetch(self, key: str, target: Path) -> None:
        """The whole of what is kept under ``key``, to a local file."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Nothing under ``key`` any more (nothing there: nothing done)."""

    async def legal_hold(self, key: str, on: bool) -> None:  # noqa: B027 (most storages have none)
        """Mirror a legal hold where the storage enforces one (object lock); else nothing."""


def _durable_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.{id(target)}.partial")  # writers may overlap
    try:
        os.link(source, partial)  # the same filesystem: no copy
    except OSError:
        with source.open("rb") as reader, partial.open("wb") as writer:
            shutil.copyfileobj(reader, writer, 1 << 20)
            writer.flush()
            os.fsync(writer.fileno())
    partial.replace(target)


def _read(path: Path, start: int, end: int) -> bytes:
    with path.open("rb") as reader:
        reader.seek(start)
        return reader.read(end - start)


class LocalStorage(Storage):
    def __init__(self, base: Path) -> None:
        self.base = base
        self.where = str(base)

    def path(self, key: str) -> Path:
        return self.base / key

    async def put(self, key: str, source: Path) -> None:
        await asyncio.to_thread(_durable_copy, source, self.path(key))

    async def size(self, key: str) -> int | None:
        try:
            return (await asyncio.to_thread(self.path(key).stat)).st_size
        except FileNotFoundError:
            return None

    async def read(self, key: str, start: int, end: int) -> bytes:
        return await asyncio.to_thread(_read, self.path(key), start, end)

    async def fetch(self, key: str, target: Path) -> None:
        await asyncio.to_thread(shutil.copyfile, self.path(key), target)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self.path(key).unlink, missing_ok=True)


class S3Storage(Storage):
    def __init__(
        self, *, bucket: str, prefix: str = "", endpoint_url: str | None = None, region: str = "us-east-1",
        access_key_id: str | None = None, secret_access_key: str | None = None,
        server_side_encryption: str | None = None, object_lock: bool = False,
    ) -> None:  # fmt: skip
        import boto3
        from botocore.config import Config

        self.client: Any = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=5, read_timeout=30
            ),
        )  # fmt: skip
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.sse = server_side_encryption
        self.object_lock = object_lock
        self.where = f"s3://{bucket}/{self.prefix}"

    def _key(self, key: str) -> str:
        return self.prefix + key

    async def _call(self, what: str, key: str, operation: Any, **arguments: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return await asyncio.to_thread(operation, **arguments)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(key) from exc
            raise StorageFailed(f"{what} {self.where}{key}: {code or exc}", {"key": key}) from exc
        except BotoCoreError as exc:
            raise StorageFailed(f"{what} {self.where}{key}: {exc}", {"key": key}) from exc

    async def put(self, key: str, source: Path) -> None:
        extra = {"ServerSideEncryption": self.sse} if self.sse else {}
        await self._call(
            "put", key, self.client.upload_file, Filename=str(source), Bucket=self.bucket, Key=self._key(key),
            ExtraArgs=extra,
        )  # fmt: skip

    async def size(self, key: str) -> int | None:
        try:
            head = await self._call(
                "head", key, self.client.head_object, Bucket=self.bucket, Key=self._key(key)
            )
        except FileNotFoundError:
            return None
        return int(head["ContentLength"])

    async def read(self, key: str, start: int, end: int) -> bytes:
        answer = await self._call(
            "read", key, self.client.get_object, Bucket=self.bucket, Key=self._key(key),
            Range=f"bytes={start}-{end - 1}",
        )  # fmt: skip
        body = answer["Body"]
        try:
            data: bytes = await asyncio.to_thread(body.read)
        finally:
            body.close()
        return data

    async def fetch(self, key: str, target: Path) -> None:
        await self._call(
            "fetch",
            key,
            self.client.download_file,
            Bucket=self.bucket,
            Key=self._key(key),
            Filename=str(target),
        )

    async def delete(self, key: str) -> None:
        """With object lock (a versioned bucket) every version goes: a held one refuses (an error)."""
        if not self.object_lock:
            await self._call("delete", key, self.client.delete_object, Bucket=self.bucket, Key=self._key(key))
            return
        listed = await self._call(
            "list", key, self.client.list_object_versions, Bucket=self.bucket, Prefix=self._key(key)
        )
        for version in [*listed.get("Versions", []), *listed.get("DeleteMarkers", [])]:
            if version["Key"] == self._key(key):
                await self._call(
                    "delete", key, self.client.delete_object, Bucket=self.bucket, Key=self._key(key),
                    VersionId=version["VersionId"],
                )  # fmt: skip

    async def legal_hold(self, key: str, on: bool) -> None:
        if self.object_lock:
            await self._call(
                "hold", key, self.client.put_object_legal_hold, Bucket=self.bucket, Key=self._key(key),
                LegalHold={"Status": "ON" if on else "OFF"},
            )  # fmt: skip
