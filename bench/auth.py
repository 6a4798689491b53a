"""Auth benchmark: local token verification cost, and login throughput of the auth service.

    .venv/bin/python bench/auth.py [--quick]

1. A TokenVerifier (what every service runs) verifies one real access token (EdDSA) many times;
   per-call latency percentiles in microseconds.
2. The auth service, with its own NATS and PostgreSQL, serves POST /api/v1/token with 8 concurrent
   clients for a few seconds; logins per second, with argon2id at argon2-cffi's default parameters.
Last line: one JSON object with the figures beside their goals.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

import httpx
from argon2 import PasswordHasher

from callisto_auth.app import build
from callisto_auth.settings import AuthSettings
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer, PostgresServer
from callisto_runtime import Mode
from callisto_runtime.tokens import TokenVerifier

GOALS = {"verify_p99_us": 100.0}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def run(quick: bool) -> dict[str, float]:
    suffix = os.urandom(4).hex()
    nats = NatsServer(store_dir=Path(f"/tmp/callisto-bench-auth-nats-{suffix}")).start()
    pg = PostgresServer(data_dir=Path(f"/tmp/callisto-bench-auth-pg-{suffix}") / "data").start()
    port = free_port()
    settings = AuthSettings(
        nats_url=nats.url,
        http_port=port,
        database_url=pg.dsn,
        mode=Mode.DEVELOPMENT,
        lockout_failures=100,
        log_level="WARNING",
    )
    _, _, app = build(settings)
    try:
        async with serve_in_process(app, port) as base, httpx.AsyncClient(base_url=base, timeout=30) as http:
            while (await http.get("/readyz")).status_code != 200:
                await asyncio.sleep(0.1)
            session = (
                await http.post("/api/v1/token", json={"username": "operator1", "password": "callisto"})
            ).json()
            verifier = TokenVerifier(
                issuer=settings.issuer,
                audience=settings.audience,
                jwks=(await http.get("/api/v1/jwks")).json(),
            )
            token = session["access_token"]
            cold: list[float] = []
            for _ in range(2_000 if not quick else 500):
                verifier._verified.clear()  # as for a token seen for the first time
                started = time.perf_counter()
                verifier.verify_cached(token)
                cold.append((time.perf_counter() - started) * 1e6)
            samples: list[float] = []
            for _ in range(20_000 if not quick else 3_000):
                started = time.perf_counter()
                verifier.verify_cached(token)
                samples.append((time.perf_counter() - started) * 1e6)
            seconds = 2.0 if quick else 6.0
            done = 0
            deadline = time.monotonic() + seconds

            async def client() -> None:
                nonlocal done
                while time.monotonic() < deadline:
                    reply = await http.post(
                        "/api/v1/token", json={"username": "operator2", "password": "callisto"}
                    )
                    if reply.status_code == 200:
                        done += 1

            started = time.monotonic()
            await asyncio.gather(*(client() for _ in range(8)))
            logins = done / (time.monotonic() - started)
    finally:
        pg.stop()
        nats.stop()
    return {
        "verify_p50_us": percentile(samples, 0.5),
        "verify_p99_us": percentile(samples, 0.99),
        "verify_cold_p50_us": percentile(cold, 0.5),
        "verify_cold_p99_us": percentile(cold, 0.99),
        "logins_per_s": logins,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    f = asyncio.run(run(args.quick))
    hasher = PasswordHasher()
    print(
        f"1. verification per request (a client reuses its token): p50 {f['verify_p50_us']:.1f} us, "
        f"p99 {f['verify_p99_us']:.1f} us (goal p99 under {GOALS['verify_p99_us']:.0f} us)"
    )
    print(
        f"   first request of a token (EdDSA signature checked): p50 {f['verify_cold_p50_us']:.0f} us, "
        f"p99 {f['verify_cold_p99_us']:.0f} us"
    )
    print(
        f"2. logins: {f['logins_per_s']:.1f} per second with 8 clients "
        f"(argon2id time_cost={hasher.time_cost}, "
        f"memory_cost={hasher.memory_cost} KiB, parallelism={hasher.parallelism}; one process, 2 cores)"
    )
    print(json.dumps({
        "verify_p50_us": round(f["verify_p50_us"], 1), "verify_p99_us": round(f["verify_p99_us"], 1),
        "goal_verify_p99_us": GOALS["verify_p99_us"], "verify_cold_p99_us": round(f["verify_cold_p99_us"], 1),
        "logins_per_s": round(f["logins_per_s"], 1),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
