"""The ACD at work: one operation at a time (a lock), then its records written through to Redis and
its effects carried out — events published, offers sent to call-manager. A time loop runs the ACD's
timers and retries writes Redis refused."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from callisto_protocol.agents import AgentStateChanged
from callisto_protocol.help import HelpRequestChanged
from callisto_protocol.queues import CallDisposed, ConnectAccepted, ConnectCall, ConnectResult, QueueCallEvent
from callisto_protocol.telephony import CallControlled, CancelConnect, ListCalls, LiveCalls, OriginateCall
from callisto_queue_manager.acd import Acd, CancelOffer, Effect, Offer
from callisto_queue_manager.model import AgentProfile, QueueConfig
from callisto_queue_manager.notifier import Notifier
from callisto_queue_manager.store import Store
from callisto_runtime import Bus, BusError
from callisto_runtime.periodic import periodic

log = logging.getLogger(__name__)
T = TypeVar("T")


class Engine:
    def __init__(self, acd: Acd, store: Store, bus: Bus, clock: Callable[[], float] = time.time) -> None:
        self.acd = acd
        self.store = store
        self.bus = bus
        self.notifier = Notifier(bus)
        self.clock = clock
        self.loaded = False
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self.redis_restores = 0

    async def load(self, initial: tuple[list[QueueConfig], list[AgentProfile]]) -> None:
        """Configuration and live state from Redis; ``initial`` when Redis has no configuration."""
        async with self._lock:
            queues, profiles = await self.store.config()
            if not queues and not profiles:
                queues, profiles = initial
                for queue in queues:
                    await self.store.save_queue(queue)
                for profile in profiles:
                    await self.store.save_profile(profile)
            now = self.clock()
            for queue in queues:
                self.acd.set_queue(queue, now)
            for profile in profiles:
                self.acd.set_agent(profile, now)
            agents, calls, helps = await self.store.live(self.acd)
            self.acd.take_effects()  # building the configuration up announces nothing
            self.acd.dirty_agents.clear()
            self.acd.help.restore(helps)
            self.acd.restore(agents, calls, now)
            await self._finish()
            await self.store.mark()
            # thousands of long-lived records: keep them out of the collector's full passes, which
            # would otherwise stall the event loop for tens of milliseconds now and then
            gc.collect()
            gc.freeze()
            self.loaded = True

    def start(self, tick_s: float, redis_check_s: float = 1.0) -> None:
        self._loop = periodic(tick_s, self.tick, "acd-tick")
        self._watch = periodic(redis_check_s, self.watch_redis, "acd-redis-watch")

    async def watch_redis(self) -> None:
        """Redis restarted empty or flushed: write the whole state back from memory at once, so a
        restart or a standby taking over finds it (and phones, queues and agents stay known)."""
        if not self.loaded:
            return
        try:
            if not await self.store.lost():
                return
            async with self._lock:
                await self.store.write_back(self.acd)
        except Exception as exc:  # Redis away: tried again at the next check
            log.debug("checking Redis for lost state: %r", exc)
            return
        log.warning("Redis had lost the ACD state; written back from memory")
        self.redis_restores += 1

    async def stop(self) -> None:
        tasks = [*self._tasks, *(t for t in (self._loop, self._watch) if t is not None)]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop = self._watch = None

    async def step_down(self, fresh: Acd) -> None:
        """Standby: stop deciding; the next activation loads the state from Redis into ``fresh``."""
        await self.stop()
        async with self._lock:
            self.loaded = False
            self.acd = fresh

    async def run(self, operation: Callable[[Acd, float], T]) -> T:
        """Apply one operation to the ACD (errors leave it unchanged), persist, act."""
        async with self._lock:
            try:
                return operation(self.acd, self.clock())
            finally:
                await self._finish()

    async def tick(self) -> None:
        if not self.loaded:
            return
        async with self._lock:
            self.acd.tick(self.clock())
            await self._finish()

    async def _finish(self) -> None:
        effects = self.acd.take_effects()
        try:
            await self.store.flush(self.acd)
        except Exception as exc:  # Redis away: the records stay dirty, the next tick writes them
            log.warning("writing live state to Redis failed (%r); retrying", exc)
        for effect in effects:
            await self._act(effect)

    async def _act(self, effect: Effect) -> None:
        if isinstance(effect, AgentStateChanged):
            await self.notifier.agent_state(effect)
        elif isinstance(effect, QueueCallEvent):
            await self.notifier.queue_step(effect)
        elif isinstance(effect, Offer):
            self._spawn(self._ring(effect))
        elif isinstance(effect, HelpRequestChanged):
            await self.notifier.help_changed(effect)
        elif isinstance(effect, CancelOffer):
            self._spawn(self._withdraw(effect))
        elif isinstance(effect, CallDisposed):
            await self.notifier.disposed(effect)

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _ring(self, offer: Offer) -> None:
        """Ask call-manager to ring the agent (for a callback: to originate the try, agent first);
        when it cannot even accept, the offer failed."""
        try:
            if offer.number is not None:
                originate = OriginateCall(
                    number=offer.number, agent_id=offer.agent_id, call_id=offer.attempt_id,
                    offer_id=offer.offer_id, ring_timeout_s=offer.ring_timeout_s,
                )  # fmt: skip
                await self.bus.call(originate, CallControlled, timeout=3.0, correlation_id=offer.call_id)
            else:
                command = ConnectCall(
                    call_id=offer.call_id, agent_id=offer.agent_id, offer_id=offer.offer_id,
                    ring_timeout_s=offer.ring_timeout_s,
                )  # fmt: skip
                await self.bus.call(command, ConnectAccepted, timeout=3.0, correlation_id=offer.call_id)
        except BusError as exc:
            log.warning("call-manager did not take offer %s: %s", offer.offer_id, exc.message)
            await self.run(
                lambda acd, now: acd.outcome(
                    offer.call_id, offer.agent_id, offer.offer_id, ConnectResult.FAILED, now
                )
            )

    async def _withdraw(self, cancel: CancelOffer) -> None:
        """Stop the agent's phone ringing for an offer the ACD took back (best effort: an unanswered
        ring ends by its timeout anyway, and a late answer is hung up by call-manager)."""
        command = CancelConnect(call_id=cancel.call_id, offer_id=cancel.offer_id)
        try:
            await self.bus.call(command, CallControlled, timeout=3.0, correlation_id=cancel.call_id)
        except BusError as exc:
            log.info("withdrawing offer %s of call %s: %s", cancel.offer_id, cancel.call_id, exc.message)

    async def reconcile(self) -> int | None:
        """Align with call-manager's live calls (after a start or a reconnect); None when call-manager
        cannot say."""
        if not self.loaded:
            return None
        asked_at = self.clock()
        try:
            reply = await self.bus.call(ListCalls(), LiveCalls, timeout=5.0)
        except BusError as exc:
            log.warning("call-manager's live calls unavailable (%s); not reconciled", exc.message)
            return None
        live = {call.call_id for call in reply.calls}
        gone = await self.run(lambda acd, now: acd.reconcile(live, asked_at, now))
        if gone:
            log.warning("%d calls ended at call-manager while queue-manager was not listening", gone)
        return gone
