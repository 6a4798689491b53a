"""The registry written through to NATS KV bucket ``cc_registry``, one key per instance
(``<service>.<instance>``), so a restarted or newly active core-bus starts from what was known."""

from __future__ import annotations

import logging

import nats.js.errors
from nats.aio.client import Client
from nats.js.kv import KeyValue

from callisto_protocol.registry import InstanceStatus
from callisto_protocol.streams import REGISTRY_BUCKET
from callisto_runtime.kv import ensure_bucket

log = logging.getLogger(__name__)


class RegistryStore:
    def __init__(self) -> None:
        self._kv: KeyValue | None = None

    async def open(self, nc: Client) -> None:
        self._kv = await ensure_bucket(nc, REGISTRY_BUCKET)

    @staticmethod
    def key(status: InstanceStatus) -> str:
        return f"{status.service}.{status.instance}"

    async def save(self, status: InstanceStatus) -> None:
        if self._kv is not None:
            await self._kv.put(self.key(status), status.model_dump_json().encode())

    async def forget(self, service: str, instance: str) -> None:
        if self._kv is not None:
            try:
                await self._kv.purge(f"{service}.{instance}")
            except nats.js.errors.Error as exc:
                log.debug("purge %s.%s: %r", service, instance, exc)

    async def load(self) -> list[InstanceStatus]:
        if self._kv is None:
            return []
        try:
            keys = await self._kv.keys()
        except nats.js.errors.NoKeysError:
            return []
        found: list[InstanceStatus] = []
        for key in keys:
            try:
                entry = await self._kv.get(key)
            except nats.js.errors.KeyNotFoundError:
                continue
            if entry.value:
                try:
                    found.append(InstanceStatus.model_validate_json(entry.value))
                except ValueError:
                    log.warning("registry store: unreadable entry %s dropped", key)
        return found
