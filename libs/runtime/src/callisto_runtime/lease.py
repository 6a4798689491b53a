"""Leader lease on a NATS KV bucket, for active/standby singletons.

The lease is one key in bucket ``cc_leases``, whose bucket-level TTL is the lease time. The holder
renews it with a compare-and-set on the revision several times per TTL; a contender creates the key
only when it is absent (the previous holder stopped renewing and the server expired it).

Safety: a holder counts itself leader only until ``t_sent + ttl - margin``, where ``t_sent`` is when
it sent its last acknowledged write. The server cannot expire that write before ``t_recv + ttl`` with
``t_recv >= t_sent``, so the old leader has stepped down before anyone else can acquire. The
revision of the holder's last write is a fencing token for the work it does as leader.

A bucket deleted at run time (by hand, by a restore) is created again by whoever notices; revisions
then start again from 1, so the fencing token is the bucket's generation (its creation time as the
NATS server recorded it, in microseconds) before the revision: a leader of the new bucket outranks
any leader of the old one. Before competing in a new bucket a contender waits one TTL, so that a
leader of the old bucket (which can no longer renew) has stepped down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

import nats.errors
import nats.js.errors
from nats.js.kv import KeyValue

from callisto_runtime.errors import LeaseError
from callisto_runtime.kv import Bucket

log = logging.getLogger(__name__)

ChangeCallback = Callable[[bool], Awaitable[None]]
Reopen = Callable[[], Awaitable[Bucket]]  # the bucket, created again if it is gone


class LeaderLease:
    def __init__(
        self,
        kv: KeyValue,
        key: str,
        holder: str,
        *,
        ttl_s: float,
        renew_every_s: float | None = None,
        margin_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        reopen: Reopen | None = None,
        eligible: Callable[[], bool] = lambda: True,
    ) -> None:
        if ttl_s <= 0:
            raise LeaseError("lease TTL must be positive")
        self.kv = kv
        self.key = key
        self.holder = holder
        self.ttl_s = ttl_s
        self.renew_every_s = renew_every_s if renew_every_s is not None else ttl_s / 5
        self.margin_s = margin_s if margin_s is not None else ttl_s / 10
        if self.renew_every_s >= self.ttl_s - self.margin_s:
            raise LeaseError("renew interval must be well below the lease TTL minus the margin")
        self._clock = clock
        self.generation = 0  # of the bucket (``adopt``): its creation time (µs), the token's first part
        self._reopen = reopen
        self._eligible = eligible  # False: compete for nothing, release what is held (a cluster's say)
        self._deadline = 0.0
        self._leader_from = 0.0  # the key won in a bucket made again counts from then on
        self._revision: int | None = None
        self._was_leader = False
        self._callbacks: list[ChangeCallback] = []
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.paused = False  # a test hook: stop renewing, as a frozen process would
        self._hold_until = 0.0  # after a hand-over: leave the lease to the others until then

    @property
    def is_leader(self) -> bool:
        return self._revision is not None and self._leader_from <= self._clock() < self._deadline

    @property
    def token(self) -> str | None:
        """The fencing token while leader, else None: the bucket's generation and the revision of the
        last write, fixed width, so that tokens compare as strings."""
        if not self.is_leader or self._revision is None:
            return None
        return f"{self.generation:017d}.{self._revision:020d}"

    async def current_holder(self) -> str | None:
        """Who holds the lease now, as the bucket says (None when nobody, or it cannot be read)."""
        try:
            entry = await self.kv.get(self.key)
        except Exception:  # absent, or NATS away
            return None
        return entry.value.decode() if entry.value else None

    def on_change(self, callback: ChangeCallback) -> None:
        self._callbacks.append(callback)

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"lease-{self.key}")

    async def stop(self, *, release: bool = True) -> None:
        """Stop competing; a leader releases the key so a standby takes over at once."""
        if self._task is not None:
            # Python 3.11's wait_for can swallow a cancellation that crosses a reply: the loop also
            # ends at its next turn, so stopping never waits for ever
            self._stopping = True
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if release and self.is_leader and self._revision is not None:
            try:
                await self.kv.delete(self.key, last=self._revision)
            except Exception as exc:
                log.warning("lease %s: release failed: %r", self.key, exc)
        self._revision = None
        await self._notify()

    async def hand_over(self, hold_off_s: float) -> bool:
        """Release the lease now (a switchover) and leave it to the others for ``hold_off_s``;
        True when this holder was the leader."""
        self._hold_until = self._clock() + hold_off_s
        return await self._release("hand-over")

    async def _release(self, why: str) -> bool:
        """Delete the key while it is still this holder's, and stand by; True when it was the leader."""
        revision = self._revision if self.is_leader else None
        if revision is not None:
            try:
                await self.kv.delete(self.key, last=revision)
            except Exception as exc:  # it then lapses by its TTL
                log.warning("lease %s: %s release failed: %r", self.key, why, exc)
        self._revision = None
        await self._notify()
        return revision is not None

    async def _run(self) -> None:
        while not self._stopping:
            if not self._eligible():
                if self._revision is not None:
                    log.warning("lease %s: no longer eligible, releasing it", self.key)
                    await self._release("ineligible")
                await asyncio.sleep(self.renew_every_s / 2)
                continue
            if self._clock() < self._hold_until and self._revision is None:
                await asyncio.sleep(self.renew_every_s / 2)
                continue
            if self.paused:
                await self._notify()
                await asyncio.sleep(self.renew_every_s / 2)
                continue
            sent = self._clock()
            try:
                if self._revision is None:
                    revision = await asyncio.wait_for(
                        self.kv.create(self.key, self.holder.encode()), self.renew_every_s * 2
                    )
                    if await self._new_generation():  # won in a bucket made again: lead one TTL later
                        self._leader_from = self._clock() + self.ttl_s
                else:
                    revision = await asyncio.wait_for(
                        self.kv.update(self.key, self.holder.encode(), last=self._revision),
                        self.renew_every_s * 2,
                    )
                self._revision = revision
                self._deadline = sent + self.ttl_s - self.margin_s
            except (nats.js.errors.KeyWrongLastSequenceError, nats.js.errors.KeyNotFoundError) as exc:
                if self._revision is not None:
                    log.warning("lease %s lost to another holder", self.key)
                self._revision = None  # someone else holds it, or the key is gone
                if isinstance(exc, nats.js.errors.KeyNotFoundError) and await self._new_generation():
                    self._hold_until = self._clock() + self.ttl_s
            except nats.js.errors.NoStreamResponseError:  # the bucket is gone (or JetStream not ready)
                if not self.is_leader:
                    self._revision = None
                if await self._new_generation():
                    self._revision = None
                    self._hold_until = self._clock() + self.ttl_s
            except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as exc:
                log.debug("lease %s: write failed: %r", self.key, exc)
                if not self.is_leader:
                    self._revision = None
            await self._notify()
            delay = self.renew_every_s if self._revision is not None else self.renew_every_s / 2
            await asyncio.sleep(delay)

    async def _new_generation(self) -> bool:
        """Open the bucket again (creating it when it was deleted); True when it is not the bucket this
        holder knew (an empty one: whoever led in the old one must have stepped down before anyone
        leads in it, so the caller waits one TTL)."""
        if self._reopen is None:
            return False
        try:
            bucket = await self._reopen()
        except (TimeoutError, nats.errors.Error, nats.js.errors.Error) as exc:
            log.debug("lease %s: reopening the bucket failed: %r", self.key, exc)
            return False
        if not self.adopt(bucket):
            return False
        log.warning("lease %s: the lease bucket was made again; leading in it after one TTL", self.key)
        return True

    def adopt(self, bucket: Bucket) -> bool:
        """Use ``bucket`` and count with its own TTL (its keys expire by the TTL of whoever created
        it, which may not be this holder's); True when its generation is not the one known."""
        self.kv = bucket.kv
        if bucket.ttl_s is not None and bucket.ttl_s != self.ttl_s:
            log.warning("lease %s: the bucket's TTL is %g s, not %g s: counting with it", self.key,
                        bucket.ttl_s, self.ttl_s)  # fmt: skip
            scale = bucket.ttl_s / self.ttl_s
            self.ttl_s, self.renew_every_s, self.margin_s = (
                bucket.ttl_s, self.renew_every_s * scale, self.margin_s * scale
            )  # fmt: skip
        changed = bucket.generation != self.generation
        self.generation = bucket.generation
        return changed

    async def _notify(self) -> None:
        now_leader = self.is_leader
        if now_leader == self._was_leader:
            return
        self._was_leader = now_leader
        log.info("lease %s: %s is %s", self.key, self.holder, "leader" if now_leader else "standby")
        for callback in self._callbacks:
            try:
                await callback(now_leader)
            except Exception:
                log.exception("lease callback failed")
