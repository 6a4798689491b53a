"""callisto_runtime: the bus, JetStream, KV, leader lease and the service skeleton."""

from callisto_runtime.bus import Bus
from callisto_runtime.consumer import DurableConsumer
from callisto_runtime.errors import (
    BadRequest,
    BusError,
    CallistoError,
    Conflict,
    NoResponders,
    NotConnected,
    NotFound,
    PublishBufferFull,
    RemoteError,
    RequestTimeout,
)
from callisto_runtime.lease import LeaderLease
from callisto_runtime.service import Service, run
from callisto_runtime.settings import Mode, ServiceSettings

__all__ = [
    "BadRequest",
    "Bus",
    "BusError",
    "CallistoError",
    "Conflict",
    "DurableConsumer",
    "LeaderLease",
    "Mode",
    "NoResponders",
    "NotConnected",
    "NotFound",
    "PublishBufferFull",
    "RemoteError",
    "RequestTimeout",
    "Service",
    "ServiceSettings",
    "run",
]
