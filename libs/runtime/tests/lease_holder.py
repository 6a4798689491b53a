"""A process that competes for a lease and prints LEADER when it holds it (killed by the tests)."""

from __future__ import annotations

import asyncio
import sys

import nats

from callisto_runtime.kv import ensure_bucket
from callisto_runtime.lease import LeaderLease


async def main(url: str, bucket: str, ttl: float, holder: str) -> None:
    nc = await nats.connect(url)
    kv = await ensure_bucket(nc, bucket, ttl_s=ttl, memory=True)
    lease = LeaderLease(kv, "singleton", holder, ttl_s=ttl)

    async def changed(leader: bool) -> None:
        print("LEADER" if leader else "STANDBY", flush=True)

    lease.on_change(changed)
    lease.start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]))
