"""Callisto's backup and restore (``callisto backup FILE``, ``callisto restore FILE``, core-bus's
control API and scheduled backups): PostgreSQL, JetStream streams and KV buckets, Redis."""

from callisto_backup.backup import take
from callisto_backup.errors import ArchiveCorrupt, BackupError, RestoreFailed, TargetNotEmpty, ToolFailed
from callisto_backup.manifest import Manifest, Part
from callisto_backup.restore import Restored, restore
from callisto_backup.targets import Targets

__all__ = ["ArchiveCorrupt", "BackupError", "Manifest", "Part", "RestoreFailed", "Restored", "TargetNotEmpty",
           "Targets", "ToolFailed", "restore", "take"]  # fmt: skip
