"""The configuration documents a service owns, kept in the NATS KV bucket ``cc_config``.

``service.configuration.own(name, parse, apply, seed)`` declares one: ``parse`` turns a body (YAML's
data) into the service's own model and raises ValueError (pydantic's ValidationError is one) with the
reason when it cannot; ``apply`` puts a parsed version to work (new calls use a new dial plan; calls in
progress keep theirs); ``seed`` gives the body a first start writes when the bucket has none (the
configuration file, or the demo's).

Every instance loads its documents once NATS answers (seeding a missing one; only the first writer
wins), applies them, and watches each key: a new version is parsed and applied without a restart; a
version that does not parse is logged, counted and not applied (the old one stays). Until every
document was applied once, the instance is not ready (check ``config``). The service answers
``ValidateConfig`` for its documents, so core-bus writes only bodies the owner accepts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue
from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import ValidationError

from callisto_protocol import Envelope
from callisto_protocol.configuration import (
    CONFIG_BUCKET,
    CONFIG_HISTORY,
    ConfigValid,
    ConfigVersion,
    ValidateConfig,
    document_key,
)
from callisto_runtime.errors import CallistoError, NotFound
from callisto_runtime.kv import ensure_bucket

if TYPE_CHECKING:
    from callisto_runtime.service import Service

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_S = 1.0
POLL_S = 5.0


class InvalidConfig(CallistoError):
    status = 422
    error_id = "invalid-config"


def reason_of(exc: Exception) -> str:
    """A parse failure in words: pydantic's first errors with where they are, or the message."""
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(document)'}: {e['msg']}" for e in exc.errors()[:3]
        )
    return str(exc)


@dataclass
class Document(Generic[T]):
    key: str
    parse: Callable[[dict[str, Any]], T]
    apply: Callable[[T, int], Awaitable[None]]
    seed: Callable[[], dict[str, Any]]
    summary: Callable[[T], str] = field(default=lambda _: "")
    version: int = 0  # the one applied (0: none yet)
    seen: int = 0  # the newest one read, applied or refused: each is looked at once

    def check(self, body: dict[str, Any]) -> T:
        try:
            return self.parse(body)
        except (ValueError, TypeError, KeyError) as exc:
            raise InvalidConfig(f"{self.key}: {reason_of(exc)}", {"document": self.key}) from exc


class Configuration:
    def __init__(self, service: Service, registry: CollectorRegistry) -> None:
        self.service = service
        self.documents: dict[str, Document[Any]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._applied = Gauge(
            "callisto_config_version", "The version of each document this instance applied.", ["document"],
            registry=registry,
        )  # fmt: skip
        self._refused = Counter(
            "callisto_config_refused", "Versions of a document that did not parse here.", ["document"],
            registry=registry,
        )  # fmt: skip

    def own(
        self,
        name: str,
        parse: Callable[[dict[str, Any]], T],
        apply: Callable[[T, int], Awaitable[None]],
        seed: Callable[[], dict[str, Any]],
        summary: Callable[[T], str] = lambda _: "",
    ) -> Document[T]:
        document = Document(document_key(self.service.name, name), parse, apply, seed, summary)
        self.documents[document.key] = document
        return document

    @property
    def applied(self) -> bool:
        return all(d.version > 0 for d in self.documents.values())

    async def start(self) -> None:
        # every service answers for its documents, none or some: a document nobody owns is "not found",
        # and only an owner that does not answer at all is unavailable
        await self.service.bus.serve(
            ValidateConfig, self._validate, permission="config.write", service=self.service.name
        )
        if self.documents:
            self.service.add_check("config", lambda: self.applied)
            self._tasks.append(asyncio.create_task(self._follow(), name="config-follow"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    async def _validate(self, command: ValidateConfig, env: Envelope) -> ConfigValid:
        document = self.documents.get(command.document)
        if document is None:
            raise NotFound(f"{self.service.name} owns no document {command.document!r}")
        parsed = document.check(command.body)
        return ConfigValid(document=command.document, summary=document.summary(parsed))

    async def _follow(self) -> None:
        """Open the bucket once NATS answers, then watch every document (again after a failure)."""
        while True:
            try:
                await self.service.bus.wait_connected()
                kv = await ensure_bucket(self.service.bus.nc, CONFIG_BUCKET, history=CONFIG_HISTORY)
                async with asyncio.TaskGroup() as group:  # one failing stops the others: all start again
                    group.create_task(self._poll(kv))
                    for document in self.documents.values():
                        group.create_task(self._watch(kv, document))
            except* (nats.errors.Error, nats.js.errors.Error, TimeoutError, OSError) as failed:
                log.warning("configuration: NATS failed (%r); watching again in %.0f s", failed.exceptions[0],
                            RETRY_S)  # fmt: skip
                await asyncio.sleep(RETRY_S)

    async def _watch(self, kv: KeyValue, document: Document[Any]) -> None:
        try:
            await kv.get(document.key)
        except nats.js.errors.KeyNotFoundError:  # the first start: the file's (or the demo's) version
            seed = ConfigVersion(
                body=document.seed(), by=f"service:{self.service.name}", at=datetime.now(UTC),
                comment="seeded from the service's configuration file",
            )  # fmt: skip
            try:
                await kv.create(document.key, seed.model_dump_json().encode())
                log.info("configuration: %s seeded", document.key)
            except nats.js.errors.KeyWrongLastSequenceError:
                pass  # another instance seeded it first
        watcher = await kv.watch(document.key)
        try:
            async for entry in watcher:
                if entry is None or entry.value is None or entry.operation is not None:
                    continue  # the end of the initial values, or a delete: keep what is applied
                await self._apply(document, entry.value, int(entry.revision or 0))
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]

    async def _poll(self, kv: KeyValue) -> None:
        """Read each document's newest version now and then: a watch that went quiet (its consumer
        lost with a NATS restart) never leaves an old version applied for long."""
        while True:
            await asyncio.sleep(POLL_S)
            for document in self.documents.values():
                try:
                    entry = await kv.get(document.key)
                except nats.js.errors.KeyNotFoundError:
                    continue
                if entry.value is not None:
                    await self._apply(document, entry.value, int(entry.revision or 0))

    async def _apply(self, document: Document[Any], raw: bytes, version: int) -> None:
        """Apply ``version`` unless it was seen already (the watch and the poll both bring it, and a
        refused one is refused once, not at every poll)."""
        if version <= document.seen:
            return
        document.seen = version
        try:
            parsed = document.check(ConfigVersion.model_validate_json(raw).body)
        except (InvalidConfig, ValidationError) as exc:
            self._refused.labels(document.key).inc()
            log.error("configuration: %s version %d not applied, %s kept: %s", document.key, version,
                      document.version or "nothing", exc)  # fmt: skip
            return
        await document.apply(parsed, version)
        document.version = version
        self._applied.labels(document.key).set(version)
        log.info("configuration: %s version %d applied", document.key, version)
