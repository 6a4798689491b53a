"""helpdesk benchmark: the caller lookup over the bus with a million contacts.

    .venv/bin/python bench/helpdesk.py [--contacts 1000000] [--lookups 5000]

Its own NATS and PostgreSQL; helpdesk in this process, a token issuer on the bus. The contacts are
loaded with COPY (one number each, +7 900 ... in E.164), then a client on the bus asks
``LookupContact`` for random numbers written as operators' phones show them ("8 (900) 012-34-56"),
one at a time and then 8 at a time; round-trip percentiles in milliseconds (what the IVR waits).
Ticket throughput and classification are not built yet: not measured.
Last line: one JSON object with the figures beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from pathlib import Path

import asyncpg
import httpx
from prometheus_client import CollectorRegistry

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer, PostgresServer
from callisto_helpdesk.app import build
from callisto_helpdesk.settings import HelpdeskSettings
from callisto_protocol.contacts import ContactMatch, LookupContact
from callisto_runtime import Bus, Mode
from callisto_runtime.metrics import BusMetrics

GOALS = {"lookup_p99_ms": 5.0}
BASE = 79_000_000_000  # +7 900 000-00-00


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def as_dialled(n: int) -> str:
    """+79000123456 as a Russian caller id is often shown: 8 (900) 012-34-56."""
    digits = str(BASE + n)[1:]
    return f"8 ({digits[:3]}) {digits[3:6]}-{digits[6:8]}-{digits[8:]}"


async def load(dsn: str, contacts: int) -> float:
    started = time.perf_counter()
    conn = await asyncpg.connect(dsn, server_settings={"search_path": "helpdesk"})
    try:
        chunk = 100_000
        for first in range(0, contacts, chunk):
            ids = range(first, min(contacts, first + chunk))
            await conn.copy_records_to_table(
                "contacts",
                columns=["id", "kind", "name"],
                records=[(f"b{n}", "person", f"Customer {n}") for n in ids],
            )
            await conn.copy_records_to_table(
                "contact_phones",
                columns=["e164", "contact_id"],
                records=[(f"+{BASE + n}", f"b{n}") for n in ids],
            )
        await conn.execute("ANALYZE contacts; ANALYZE contact_phones")
    finally:
        await conn.close()
    return time.perf_counter() - started


async def run(contacts: int, lookups: int, empty: Path) -> dict[str, float]:
    suffix = os.urandom(4).hex()
    nats = NatsServer(store_dir=Path(f"/tmp/callisto-bench-helpdesk-nats-{suffix}")).start()
    pg = PostgresServer(data_dir=Path(f"/tmp/callisto-bench-helpdesk-pg-{suffix}") / "data").start()
    issuer = TestIssuer({})
    await issuer.start(nats.url)
    port = free_port()
    settings = HelpdeskSettings(
        nats_url=nats.url, http_port=port, database_url=pg.dsn, mode=Mode.DEVELOPMENT, contacts_file=empty,
        log_level="WARNING",
    )  # fmt: skip
    _, book, app = build(settings)
    client = Bus("bench", "bench-1", BusMetrics(CollectorRegistry()))
    try:
        async with serve_in_process(app, port) as base, httpx.AsyncClient(base_url=base) as http:
            while (await http.get("/readyz")).status_code != 200:
                await asyncio.sleep(0.1)
            load_s = await load(pg.dsn, contacts)
            print(f"loaded {await book.store.count():,} contacts in {load_s:.1f} s (COPY)")
            await client.start(nats.url)
            await client.wait_connected(10)
            token = issuer.token("helpdesk.contacts.read")
            rng = random.Random(7)

            async def ask() -> float:
                n = rng.randrange(contacts)
                started = time.perf_counter()
                match = await client.call(LookupContact(number=as_dialled(n)), ContactMatch, token=token)
                elapsed = (time.perf_counter() - started) * 1000
                assert match.contact is not None, match
                assert match.contact.contact_id == f"b{n}", match
                return elapsed

            for _ in range(200):  # warm the pool and the caches
                await ask()
            single = [await ask() for _ in range(lookups)]
            concurrent: list[float] = []
            for _ in range(lookups // 8):
                concurrent.extend(await asyncio.gather(*(ask() for _ in range(8))))
    finally:
        await client.close()
        await issuer.stop()
        pg.stop()
        nats.stop()
    print(f"1. one lookup at a time ({lookups:,}): p50 {percentile(single, 0.5):.2f} ms, "
          f"p99 {percentile(single, 0.99):.2f} ms")  # fmt: skip
    print(f"2. eight at a time ({len(concurrent):,}): p50 {percentile(concurrent, 0.5):.2f} ms, "
          f"p99 {percentile(concurrent, 0.99):.2f} ms")  # fmt: skip
    return {
        "contacts": contacts,
        "lookup_p50_ms": round(percentile(single, 0.5), 2),
        "lookup_p99_ms": round(percentile(single, 0.99), 2),
        "lookup_concurrent_p99_ms": round(percentile(concurrent, 0.99), 2),
        "load_s": round(load_s, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=5_000)
    args = parser.parse_args()
    empty = Path(f"/tmp/callisto-bench-helpdesk-{os.getpid()}.yaml")  # no demo contacts
    empty.write_text("[]\n")
    try:
        figures = asyncio.run(run(args.contacts, args.lookups, empty))
    finally:
        empty.unlink(missing_ok=True)
    result: dict[str, float] = {}
    for name, value in figures.items():
        result[name] = value
        if name in GOALS:
            result[f"goal_{name}"] = GOALS[name]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
