"""The only place auth publishes from: every audit record is also an event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from callisto_protocol.auth import AuditRecorded
from callisto_runtime import Bus


class Notifier:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def audit(
        self, action: str, actor: str, target: str, source: str, at: datetime, details: dict[str, Any]
    ) -> None:
        await self.bus.publish(
            AuditRecorded(action=action, actor=actor, target=target, source=source, at=at, details=details)
        )
