"""The configuration store's writer: every change to a document in ``cc_config`` goes through here.

The owner validates the body first (``ValidateConfig`` with the person's token: their permission and
the owner's model both decide), then the version is written with a compare-and-set on the revision the
client saw (``If-Match``), attributed (who, when, a comment) and announced (``ConfigChanged``). The
owner's instances apply it from their watch. A body the owner refuses is never written. Rollback
writes an old version's body as a new version (validated again: the owner may have changed since).
Export and import move the whole configuration as one YAML file; an import is validated document by
document before anything is written."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import nats.js.errors
import yaml
from nats.js.kv import KeyValue
from pydantic import BaseModel, Field

from callisto_core_bus.errors import ConfigConflict, ConfigRefused, OwnerUnavailable, UnknownDocument
from callisto_protocol.configuration import (
    CONFIG_BUCKET,
    CONFIG_HISTORY,
    ConfigChanged,
    ConfigValid,
    ConfigVersion,
    ValidateConfig,
)
from callisto_runtime import NoResponders, RemoteError, RequestTimeout, Service
from callisto_runtime.kv import ensure_bucket
from callisto_runtime.tokens import Claims

VALIDATE_TIMEOUT_S = 5.0


class ConfigSummary(BaseModel):
    document: str = Field(description="<owner>.<document>, e.g. call-manager.dial-plan")
    owner: str
    version: int = Field(description="the KV revision: higher is newer")
    by: str
    at: datetime
    comment: str


class ConfigView(ConfigSummary):
    body: dict[str, Any]


class ConfigChange(BaseModel):
    body: dict[str, Any] = Field(description="the whole document, as its owner reads it")
    comment: str = Field(default="", max_length=500)


class ConfigDiff(BaseModel):
    document: str
    from_version: int
    to_version: int
    diff: str = Field(description="unified diff of the two versions written as YAML")


class ConfigImported(BaseModel):
    changed: list[ConfigSummary]
    unchanged: list[str]


def owner_of(document: str) -> str:
    return document.split(".", 1)[0]


def as_yaml(body: dict[str, Any]) -> str:
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True)


class ConfigStore:
    def __init__(self, service: Service, known: Callable[[str], bool] = lambda _: True) -> None:
        self.service = service
        self.known = known  # a service the registry has seen: the only owners there can be
        self._kv: KeyValue | None = None

    async def kv(self) -> KeyValue:
        if self._kv is None:
            self._kv = await ensure_bucket(self.service.bus.nc, CONFIG_BUCKET, history=CONFIG_HISTORY)
        return self._kv

    async def documents(self) -> list[ConfigView]:
        kv = await self.kv()
        try:
            keys = await kv.keys()
        except nats.js.errors.NoKeysError:
            return []
        return [await self.read(key) for key in sorted(keys)]

    async def read(self, document: str, version: int | None = None) -> ConfigView:
        kv = await self.kv()
        try:
            entry = await kv.get(document, revision=version)
        except nats.js.errors.Error:  # no such key, or no such revision
            which = f"version {version} of " if version else ""
            raise UnknownDocument(f"no {which}document {document!r}", {"document": document}) from None
        if entry.value is None or entry.key != document:
            raise UnknownDocument(f"{version} is no version of {document!r}", {"document": document})
        stored = ConfigVersion.model_validate_json(entry.value)
        return ConfigView(
            document=document, owner=owner_of(document), version=int(entry.revision or 0), by=stored.by,
            at=stored.at, comment=stored.comment, body=stored.body,
        )  # fmt: skip

    async def history(self, document: str) -> list[ConfigSummary]:
        kv = await self.kv()
        try:
            entries = await kv.history(document)
        except nats.js.errors.NoKeysError:
            raise UnknownDocument(f"no document {document!r}", {"document": document}) from None
        found = []
        for entry in reversed(entries):
            if entry.value:
                stored = ConfigVersion.model_validate_json(entry.value)
                found.append(ConfigSummary(
                    document=document, owner=owner_of(document), version=int(entry.revision or 0),
                    by=stored.by, at=stored.at, comment=stored.comment,
                ))  # fmt: skip
        return found

    async def diff(self, document: str, old: int, new: int) -> ConfigDiff:
        before, after = await self.read(document, old), await self.read(document, new)
        lines = difflib.unified_diff(
            as_yaml(before.body).splitlines(keepends=True), as_yaml(after.body).splitlines(keepends=True),
            fromfile=f"{document} version {old}", tofile=f"{document} version {new}",
        )  # fmt: skip
        return ConfigDiff(document=document, from_version=old, to_version=new, diff="".join(lines))

    async def validate(self, document: str, body: dict[str, Any], claims: Claims) -> ConfigValid:
        if not self.known(owner_of(document)):
            raise UnknownDocument(f"no service {owner_of(document)!r} owns documents", {"document": document})
        command = ValidateConfig(service=owner_of(document), document=document, body=body)
        try:
            return await self.service.bus.call(
                command, ConfigValid, token=claims.token, timeout=VALIDATE_TIMEOUT_S
            )
        except (NoResponders, RequestTimeout) as exc:
            raise OwnerUnavailable(f"{owner_of(document)} does not answer: it validates {document}",
                                   {"document": document}) from exc  # fmt: skip
        except RemoteError as exc:
            if exc.error_id in ("invalid-config", "not-found", "permission-denied", "unauthenticated"):
                raise ConfigRefused(exc.message, {"document": document, "by": owner_of(document),
                                                  "error_id": exc.error_id}) from exc  # fmt: skip
            raise

    async def apply(
        self, document: str, change: ConfigChange, claims: Claims, *, expected: int | None = None
    ) -> ConfigSummary:
        """Validate with the owner, then write a new version (none when the body is the current one)."""
        summary, _ = await self._write(document, change, claims, expected)
        return summary

    async def _write(
        self, document: str, change: ConfigChange, claims: Claims, expected: int | None
    ) -> tuple[ConfigSummary, bool]:
        await self.validate(document, change.body, claims)
        kv = await self.kv()
        try:
            current: ConfigView | None = await self.read(document)
        except UnknownDocument:
            current = None
        at = current.version if current is not None else 0
        if expected is not None and at != expected:
            raise ConfigConflict(f"{document} is at version {at}, not {expected}", {"version": at})
        if current is not None and current.body == change.body:
            return current, False
        who = claims.login or claims.subject
        stored = ConfigVersion(body=change.body, by=who, at=datetime.now(UTC), comment=change.comment)
        value = stored.model_dump_json().encode()
        try:
            if current is None:
                version = await kv.create(document, value)
            else:
                version = await kv.update(document, value, last=at)
        except nats.js.errors.KeyWrongLastSequenceError:
            raise ConfigConflict(f"{document} changed meanwhile: read it again", {"version": at}) from None
        owner = owner_of(document)
        await self.service.bus.publish(
            ConfigChanged(owner=owner, document=document, version=version, by=who, comment=change.comment)
        )
        summary = ConfigSummary(
            document=document, owner=owner, version=version, by=who, at=stored.at, comment=change.comment
        )
        return summary, True

    async def rollback(self, document: str, version: int, claims: Claims) -> ConfigSummary:
        old = await self.read(document, version)
        change = ConfigChange(body=old.body, comment=f"rollback to version {version}")
        return await self.apply(document, change, claims)

    async def export(self) -> str:
        documents = {view.document: view.body for view in await self.documents()}
        return as_yaml(documents)

    async def import_all(self, text: str, claims: Claims, comment: str) -> ConfigImported:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigRefused(f"the file is not YAML: {exc}") from exc
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise ConfigRefused("the file must map each document's name to its body")
        refused: dict[str, str] = {}
        for document, body in data.items():  # every document validated before any is written
            try:
                await self.validate(str(document), body, claims)
            except (ConfigRefused, OwnerUnavailable) as exc:
                refused[str(document)] = exc.message
        if refused:
            raise ConfigRefused(f"nothing imported: {len(refused)} document(s) refused", {"refused": refused})
        imported = ConfigImported(changed=[], unchanged=[])
        for document, body in data.items():
            change = ConfigChange(body=body, comment=comment)
            summary, written = await self._write(str(document), change, claims, None)
            if written:
                imported.changed.append(summary)
            else:
                imported.unchanged.append(summary.document)
        return imported
