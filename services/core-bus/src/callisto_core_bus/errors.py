"""core-bus errors.

CoreBusError (CallistoError)
├── UnknownService    404 no instance of that service was ever seen (or all were forgotten)
├── UnknownInstance   404
├── InstanceGone      409 the instance stopped sending heartbeats
├── NoReadyInstance   503 the proxy has no ready instance of the service to pass a request to
├── UpstreamUnreachable 502
├── UpstreamTimeout   504
├── BodyTooLarge      413 a request body the proxy does not pass on
├── ClientNotBuilt    503 CLIENT_DIR has no build of the operator client
├── BackupsOff        503 no BACKUP_DIR, BACKUP_DATABASE_URL or BACKUP_REDIS_URL: backups are not set up
├── UnknownBackup     404
├── BackupRunning     409 a backup is being taken; one at a time
├── BackupFailed      500 the backup could not be taken (the reason says which part)
├── UnknownDocument   404 no such configuration document (or no such version of it)
├── ConfigRefused     422 invalid-config: the owner refused the body (its reason), or an import file
├── ConfigConflict    412 version-mismatch: the document is not at the version If-Match named
└── OwnerUnavailable  503 the document's owner does not answer: nothing is written unvalidated
"""

from __future__ import annotations

from callisto_runtime import CallistoError


class CoreBusError(CallistoError):
    error_id = "core-bus-error"


class UnknownService(CoreBusError):
    status = 404
    error_id = "unknown-service"


class UnknownInstance(CoreBusError):
    status = 404
    error_id = "unknown-instance"


class InstanceGone(CoreBusError):
    status = 409
    error_id = "instance-gone"


class NoReadyInstance(CoreBusError):
    status = 503
    error_id = "no-ready-instance"


class UpstreamUnreachable(CoreBusError):
    status = 502
    error_id = "upstream-unreachable"


class UpstreamTimeout(CoreBusError):
    status = 504
    error_id = "upstream-timeout"


class BodyTooLarge(CoreBusError):
    status = 413
    error_id = "body-too-large"


class ClientNotBuilt(CoreBusError):
    status = 503
    error_id = "client-not-built"


class BackupsOff(CoreBusError):
    status = 503
    error_id = "backups-off"


class UnknownBackup(CoreBusError):
    status = 404
    error_id = "unknown-backup"


class BackupRunning(CoreBusError):
    status = 409
    error_id = "backup-running"


class BackupFailed(CoreBusError):
    status = 500
    error_id = "backup-failed"


class UnknownDocument(CoreBusError):
    status = 404
    error_id = "unknown-document"


class ConfigRefused(CoreBusError):
    status = 422
    error_id = "invalid-config"


class ConfigConflict(CoreBusError):
    status = 412
    error_id = "version-mismatch"


class OwnerUnavailable(CoreBusError):
    status = 503
    error_id = "owner-unavailable"
