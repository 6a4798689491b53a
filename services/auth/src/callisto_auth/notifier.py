"""The audit trail, and the only place auth publishes from: every record is written to the audit log
table and published as ``AuditRecorded``; changes to users are also published as ``UserChanged``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from callisto_auth.store import Store, User
from callisto_protocol.auth import AuditRecorded, UserChanged
from callisto_runtime import Bus


class AuditTrail:
    def __init__(self, store: Store, bus: Bus, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.bus = bus
        self.clock = clock

    async def record(
        self,
        action: str,
        actor: str,
        target: str = "",
        source: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        await self.store.audit(actor, action, target, source, details)
        await self.bus.publish(
            AuditRecorded(
                action=action,
                actor=actor,
                target=target,
                source=source,
                at=self.clock(),
                details=details or {},
            )
        )

    async def user_changed(self, user: User, change: str, by: str) -> None:
        await self.bus.publish(
            UserChanged(
                user_id=user.id,
                login=user.login,
                display_name=user.display_name,
                roles=user.roles,
                agent_id=user.agent_id,
                active=user.active,
                change=change,
                by=by,
            )
        )
