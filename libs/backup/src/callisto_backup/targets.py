"""Where the suite keeps its state: the servers a backup reads and a restore writes."""

from __future__ import annotations

from dataclasses import dataclass

import nats
from nats.aio.client import Client

from callisto_protocol.access import inbox_prefix


@dataclass(frozen=True)
class Targets:
    nats_url: str
    redis_url: str
    database_url: str
    nats_user: str | None = None  # a user allowed JetStream's API and snapshots (access.backup_permissions)
    nats_password: str | None = None

    async def nats(self) -> Client:
        servers = [url.strip() for url in self.nats_url.split(",") if url.strip()]
        return await nats.connect(
            servers, user=self.nats_user, password=self.nats_password, connect_timeout=5,
            allow_reconnect=False, inbox_prefix=inbox_prefix(self.nats_user or "backup"),
            max_outstanding_pings=3,
        )  # fmt: skip
