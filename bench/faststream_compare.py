"""FastStream vs raw nats-py: the same publish/subscribe throughput measurement as bench/bus.py.

    python3 -m venv /tmp/fsvenv && /tmp/fsvenv/bin/pip install "faststream[nats]==0.7.8" \\
        -e libs/protocol -e libs/runtime -e libs/devkit
    /tmp/fsvenv/bin/python bench/faststream_compare.py

FastStream is not a dependency of Callisto; this script is how the choice in libs/runtime/README.md
was measured. The last line is one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import time
from pathlib import Path
from typing import Any

from bus import SAMPLE, throughput  # type: ignore[import-not-found]
from faststream.nats import NatsBroker

from callisto_devkit.servers import NatsServer
from callisto_protocol import new_id
from callisto_protocol.lists import AgentListDelta

SUBJECT = AgentListDelta.subject


def _fs_subscriber(url: str, count: int, ready: Any, done: Any) -> None:
    async def main() -> None:
        broker = NatsBroker(url, logger=None)
        finished = asyncio.Event()
        received = 0

        @broker.subscriber(SUBJECT)
        async def handler(event: AgentListDelta) -> None:
            nonlocal received
            received += 1
            if received == count:
                finished.set()

        await broker.start()
        ready.set()
        await finished.wait()
        done.value = time.perf_counter()
        await broker.stop()

    asyncio.run(main())


async def _fs_publish(url: str, count: int) -> float:
    broker = NatsBroker(url, logger=None)
    await broker.start()
    started = time.perf_counter()
    for i in range(count):
        await broker.publish(SAMPLE, SUBJECT)
        if i % 1000 == 0:
            await asyncio.sleep(0)
    await broker.stop()
    return started


def fs_throughput(url: str, count: int) -> float:
    ctx = mp.get_context("spawn")
    ready, done = ctx.Event(), ctx.Value("d", 0.0)
    sub = ctx.Process(target=_fs_subscriber, args=(url, count, ready, done))
    sub.start()
    ready.wait(30)
    started = asyncio.run(_fs_publish(url, count))
    sub.join(120)
    return count / (done.value - started)


def main() -> None:
    count = 50_000
    server = NatsServer(store_dir=Path(f"/tmp/callisto-fs-nats-{new_id()[:6]}")).start()
    try:
        raw = throughput(server.url, "raw", count)
        fast = fs_throughput(server.url, count)
        typed = throughput(server.url, "typed", count)
    finally:
        server.stop()
    print(
        f"raw nats-py {raw:,.0f} msg/s; FastStream {fast:,.0f} msg/s (ratio {fast / raw:.2f}); "
        f"callisto_runtime {typed:,.0f} msg/s (ratio {typed / raw:.2f})"
    )
    print(
        json.dumps(
            {
                "raw_msgs_per_s": round(raw),
                "faststream_msgs_per_s": round(fast),
                "faststream_ratio": round(fast / raw, 3),
                "callisto_msgs_per_s": round(typed),
                "callisto_ratio": round(typed / raw, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
