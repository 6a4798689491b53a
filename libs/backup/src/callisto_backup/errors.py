"""What a backup or a restore refuses or fails with.

BackupError
├── ArchiveCorrupt   the archive is not a Callisto backup, or a part's size or checksum is wrong
├── TargetNotEmpty   a restore would overwrite data (PostgreSQL tables, streams, Redis keys) without force
├── ToolFailed       pg_dump or pg_restore answered with an error
└── RestoreFailed    a part could not be restored; what had been restored was taken back
"""

from __future__ import annotations


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why in words an operator acts on."""


class ArchiveCorrupt(BackupError):
    pass


class TargetNotEmpty(BackupError):
    def __init__(self, found: dict[str, list[str]]) -> None:
        self.found = found
        listed = "; ".join(f"{where}: {', '.join(what[:5])}{' ...' if len(what) > 5 else ''}"
                           for where, what in found.items())  # fmt: skip
        super().__init__(f"the target is not empty ({listed}); restore with force to replace it")


class ToolFailed(BackupError):
    pass


class RestoreFailed(BackupError):
    pass
