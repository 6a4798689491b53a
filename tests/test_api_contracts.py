"""Every service's HTTP API attacked as a careless integrator would: schemathesis generates requests
from each OpenAPI document (valid, invalid, edge cases; with an administrator's token and without
one) against the whole suite as `make run` starts it. No request may get a server error, and every
status answered must be one the operation declares. Stateful sequences are off: responses are never
fed back into requests, so no real account or instance is acted on (draining is left out: it would
take the instance out of service; it has its own tests)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from suite_testing import bearer, running_suite

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SERVICES = ("core-bus", "auth", "call-manager", "queue-manager", "snitch", "helpdesk")
EXAMPLES = 8
LEFT_OUT = r"^/(readyz|metrics)$|/drain$"  # readiness answers 503 by design; draining stops the instance


def schemathesis(url: str, report: Path, *headers: str) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).with_name("schemathesis")
    options = [item for header in headers for item in ("-H", header)]
    return subprocess.run(
        [str(cli), "run", f"{url}/openapi.json", "--checks", "not_a_server_error,status_code_conformance",
         "--phases", "examples,coverage,fuzzing", "--max-examples", str(EXAMPLES), "--seed", "20261201",
         "--no-shrink", "--exclude-path-regex", LEFT_OUT, "--request-timeout", "10",
         "--report", "junit", "--report-junit-path", str(report), *options],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_every_api_keeps_its_contract_under_generated_requests(tmp_path: Path) -> None:
    failures: list[str] = []
    with running_suite("contracts") as (state, _):
        admin = bearer(state, "admin")["Authorization"]
        for service in SERVICES:
            for who, headers in (("admin", (f"Authorization: {admin}",)), ("anonymous", ())):
                run = schemathesis(state.urls[service], tmp_path / f"{service}-{who}.xml", *headers)
                summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-500:]
                print(f"{service} ({who}): {summary}")
                if run.returncode != 0:
                    failures.append(f"{service} ({who}):\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}")
    assert not failures, "\n\n".join(failures)
