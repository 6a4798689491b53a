"""What core-bus knows of the suite and does about it.

Every instance of core-bus follows heartbeats and state events, so a standby is warm; only the
active one (the lease holder) publishes registry events, writes the shared store and broadcasts the
agent and call lists.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from callisto_core_bus.errors import InstanceGone, UnknownInstance, UnknownService
from callisto_core_bus.lists import AgentBook, CallBook
from callisto_core_bus.notifier import Notifier
from callisto_core_bus.registry import Change, Registry, Transition
from callisto_core_bus.settings import CoreBusSettings
from callisto_core_bus.store import RegistryStore
from callisto_protocol import Event
from callisto_protocol.agents import AgentStateChanged
from callisto_protocol.calls import CallStateChanged
from callisto_protocol.control import DrainInstance, DrainStarted, SuiteHealth
from callisto_protocol.registry import InstanceState, InstanceStatus, ServiceHeartbeat
from callisto_runtime import Service
from callisto_runtime.periodic import periodic

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Suite:
    def __init__(self, service: Service, settings: CoreBusSettings) -> None:
        self.service = service
        self.settings = settings
        self.registry = Registry(settings.missed_heartbeats_gone, settings.gone_retention_s)
        self.store = RegistryStore()
        self.notifier = Notifier(service.bus)
        self.agents = AgentBook()
        self.calls = CallBook()
        self.taken: list[Callable[[str, Event], None]] = []  # told each state event the lists took
        self._tasks: list[asyncio.Task[None]] = []

    # life -------------------------------------------------------------------------------------
    async def on_connected(self) -> None:
        await self.store.open(self.service.bus.nc)
        for status in await self.store.load():
            self.registry.restore(status)

    def start_loops(self) -> None:
        self._tasks += [
            periodic(self.settings.sweep_every_s, self.sweep, "registry sweep"),
            periodic(self.settings.list_delta_every_s, self.broadcast_deltas, "list delta broadcast"),
            periodic(
                self.settings.list_snapshot_every_s, self.broadcast_snapshots, "list snapshot broadcast"
            ),
        ]

    async def stop_loops(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    # registry ---------------------------------------------------------------------------------
    async def heartbeat(self, beat: ServiceHeartbeat) -> None:
        change = self.registry.observe(beat, utcnow())
        if change is not None:
            await self._announce(change)
        elif self.service.is_active:
            status = self.registry.get(beat.service, beat.instance)
            if status is not None:
                await self.store.save(status)

    async def sweep(self) -> None:
        for change in self.registry.sweep(utcnow()):
            await self._announce(change)

    async def _announce(self, change: Change) -> None:
        status = change.status
        log.info(
            "instance %s.%s %s",
            status.service,
            status.instance,
            change.transition.value,
            extra={"ready": status.ready, "role": status.role.value},
        )
        if not self.service.is_active:
            return
        if change.transition is Transition.FORGOTTEN:
            await self.store.forget(status.service, status.instance)
            return
        await self.store.save(status)
        if change.transition is Transition.REGISTERED:
            await self.notifier.instance_registered(status)
        elif change.transition is Transition.CHANGED:
            await self.notifier.instance_changed(status)
        else:
            await self.notifier.instance_gone(status)

    def instances(self, service: str | None = None) -> list[InstanceStatus]:
        found = self.registry.instances(service)
        if service is not None and not found:
            raise UnknownService(f"no instance of service {service!r} is known", {"service": service})
        return found

    def instance(self, service: str, instance: str) -> InstanceStatus:
        status = self.registry.get(service, instance)
        if status is None:
            raise UnknownInstance(
                f"no instance {instance!r} of service {service!r} is known",
                {"service": service, "instance": instance},
            )
        return status

    def health(self) -> SuiteHealth:
        return self.registry.health(utcnow())

    async def drain(self, service: str, instance: str, reason: str) -> DrainStarted:
        status = self.instance(service, instance)
        if status.state is InstanceState.GONE:
            raise InstanceGone(
                f"{service}.{instance} is gone; it cannot be drained",
                {"service": service, "instance": instance},
            )
        command = DrainInstance(service=service, instance=instance, reason=reason)
        # NoResponders, RequestTimeout and RemoteError reach the caller as 503, 504 and 502 problems
        return await self.service.bus.call(command, DrainStarted, timeout=3.0)

    # lists ------------------------------------------------------------------------------------
    async def agent_state(self, event: AgentStateChanged) -> None:
        if self.agents.apply(event):
            for taken in self.taken:
                taken("agents", event)

    async def call_state(self, event: CallStateChanged) -> None:
        if self.calls.apply(event):
            for taken in self.taken:
                taken("calls", event)

    async def broadcast_deltas(self) -> None:
        agent_delta = self.agents.take_delta()
        call_delta = self.calls.take_delta()
        if not self.service.is_active:
            return
        if agent_delta is not None:
            await self.notifier.agent_delta(*agent_delta)
        if call_delta is not None:
            await self.notifier.call_delta(*call_delta)

    async def broadcast_snapshots(self) -> None:
        if self.service.is_active:
            await self.notifier.agent_snapshot(self.agents.seq, self.agents.entries())
            await self.notifier.call_snapshot(self.calls.seq, self.calls.entries())
