"""How long recordings are kept, and the run that keeps to it.

Each recording has a retention class, chosen when it is stored: the first class naming its queue,
else the first naming its direction, else ``default``. A class says how many days its recordings are
kept and, optionally, after how many days they move to the archive tier. The run, in batches:

1. **archive**: recordings of a class with ``archive_after_days`` older than that are copied into the
   archive tier as they are stored (sealed stays sealed), their row says ``archive``, then the
   store's copy goes;
2. **mark**: recordings older than their class's days, not held, are marked: purged after the grace
   (a legal hold set meanwhile takes the mark away);
3. **purge**: marked recordings past their grace and not held lose their files; the row stays as a
   tombstone (``deleted_at``) and ``RecordingDeleted`` is told (by the service, also of a run made by
   the command).

A dry run counts what each step would take, and touches nothing."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from callisto_protocol.calls import CallDirection
from callisto_recording.names import names_of
from callisto_recording.store import RecordingStore

if TYPE_CHECKING:
    from callisto_recording.vault import Vault

log = logging.getLogger(__name__)
DEFAULT = "default"
RETRY_PURGE = timedelta(hours=1)  # a recording whose files would not go is tried again then


class RetentionClass(BaseModel):
    days: int = Field(ge=1, le=36500, description="kept this many days from the call")
    archive_after_days: int | None = Field(
        default=None, ge=1, le=36500, description="moved to the archive tier after this many days"
    )
    queues: list[str] = Field(default_factory=list, description="the queues whose recordings it keeps")
    directions: list[CallDirection] = Field(default_factory=list)


DEFAULT_CLASSES: dict[str, RetentionClass] = {DEFAULT: RetentionClass(days=365)}


def class_of(classes: Mapping[str, RetentionClass], queue_id: str | None, direction: str) -> str:
    for name, kept in classes.items():
        if queue_id is not None and queue_id in kept.queues:
            return name
    for name, kept in classes.items():
        if direction in kept.directions:
            return name
    return DEFAULT


@dataclass
class ClassReport:
    """What a run did (or a dry run would do) to one class."""

    days: int
    archive_after_days: int | None
    to_archive: int = 0
    archive_bytes: int = 0
    to_mark: int = 0
    to_purge: int = 0
    purge_bytes: int = 0
    held_past_retention: int = 0


@dataclass
class Report:
    dry_run: bool
    at: datetime
    classes: dict[str, ClassReport] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "at": self.at.isoformat(), "classes": {
            name: asdict(report) for name, report in self.classes.items()
        }}  # fmt: skip


class Retention:
    def __init__(
        self, store: RecordingStore, classes: Mapping[str, RetentionClass], vaults: Mapping[str, Vault],
        grace: timedelta, batch: int = 500,
    ) -> None:  # fmt: skip
        self.store = store
        self.classes = dict(classes)
        self.vaults = dict(vaults)
        self.grace = grace
        self.batch = batch

    def vault(self, tier: str) -> Vault:
        """Where a tier's files are."""
        if tier not in self.vaults:
            raise RuntimeError(f"recordings are in the {tier} tier and it is not configured")
        return self.vaults[tier]

    def _of(self, name: str) -> tuple[list[str] | None, list[str] | None]:
        """(only these classes, or all but these): the default class also takes classes no longer
        configured."""
        return ([name], None) if name != DEFAULT else (None, [c for c in self.classes if c != DEFAULT])

    async def run(self, now: datetime, *, dry_run: bool = False) -> Report:
        report = Report(dry_run=dry_run, at=now)
        for name, kept in self.classes.items():
            only, but = self._of(name)
            counted = report.classes[name] = ClassReport(kept.days, kept.archive_after_days)
            expired = now - timedelta(days=kept.days)
            facts = await self.store.retention_facts(only, but, expired, now)
            counted.held_past_retention = facts["held"]
            if kept.archive_after_days is not None and "archive" in self.vaults:
                older = now - timedelta(days=kept.archive_after_days)
                counted.to_archive, counted.archive_bytes = await self.store.archivable(only, but, older)
                if not dry_run:
                    await self._archive(only, but, older)
            if dry_run:
                counted.to_mark = facts["to_mark"]
                counted.to_purge, counted.purge_bytes = facts["to_purge"], facts["purge_bytes"]
                continue
            reason = f"retention: class {name}, {kept.days} days"
            counted.to_mark = await self.store.mark_expired(only, but, expired, now + self.grace, reason)
        if not dry_run:
            purged = await self._purge(now)
            for name, (count, size) in purged.items():
                counted = report.classes.setdefault(name, ClassReport(0, None))
                counted.to_purge, counted.purge_bytes = count, size
        return report

    async def _archive(self, only: list[str] | None, but: list[str] | None, older: datetime) -> None:
        store, archive = self.vault("store"), self.vault("archive")
        while rows := await self.store.to_archive(only, but, older, self.batch):
            for row in rows:
                await store.copy_to(archive, row["file"])
                if await self.store.archived(row["id"]):
                    for name in names_of(row["file"]):
                        await store.storage.delete(name)

    async def _purge(self, now: datetime) -> dict[str, tuple[int, int]]:
        purged: dict[str, tuple[int, int]] = {}

        async def remove(row: dict[str, Any]) -> bool:
            try:
                for name in names_of(row["file"]):
                    await self.vault(row["tier"]).storage.delete(name)
            except Exception as exc:  # the storage refused (an object lock) or is away: later
                log.warning("recording %s not purged, tried again in an hour: %s", row["id"], exc)
                return False
            count, size = purged.get(row["class"], (0, 0))
            purged[row["class"]] = (count + 1, size + row["size"])
            return True

        while await self.store.purge(now, self.batch, remove, now + RETRY_PURGE):
            pass
        return purged

    async def announce(self, deleted: Callable[[str, str, str], Awaitable[None]]) -> int:
        """Tell of purged recordings not told yet (a run of the command's too); how many."""
        told = 0
        while rows := await self.store.unannounced(self.batch):
            for row in rows:
                await deleted(row["id"], row["call_id"], row["purge_reason"] or "deleted")
                await self.store.announced(row["id"])
                told += 1
        return told
