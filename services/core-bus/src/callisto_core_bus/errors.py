"""core-bus errors.

CoreBusError (CallistoError)
├── UnknownService    404 no instance of that service was ever seen (or all were forgotten)
├── UnknownInstance   404
└── InstanceGone      409 the instance stopped sending heartbeats
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
