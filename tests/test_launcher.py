"""`callisto up / status / down`: the whole suite from the checkout, stopped exactly."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
from suite_testing import bearer, callisto
from test_alert_rules import family, rule_metrics
from test_grafana_boards import board_metrics

from callisto_devkit.processes import free_port, proc_start_time, wait_until
from callisto_devkit.sipp import scenario, sipp_binary
from callisto_devkit.suite import SuiteState

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "tests" / "artifacts" / "launcher-logs"


def register(user: str, password: str, sip_port: int, folder: Path) -> int:
    """sipp registers ``user`` (digest: SHA-256 or MD5, whichever sipp takes); its exit code."""
    path = scenario(
        "register", folder, CONTACT_PORT=5999, EXPIRES=60, EXPECT=200, USER=user, PASSWORD=password
    )
    run = subprocess.run(
        [sipp_binary(), "-sf", str(path), "-i", "127.0.0.1", "-m", "1", "-timeout", "15s", "-nostdin",
         "-p", str(free_port()), f"127.0.0.1:{sip_port}"],
        capture_output=True, timeout=30, check=False,
    )  # fmt: skip
    return run.returncode


def test_up_status_down() -> None:
    home = Path("/tmp") / f"callisto-launcher-{os.getpid()}"  # PostgreSQL (user postgres) must reach it
    offset = 20000 + (os.getpid() % 20000)  # service ports far from the defaults of a running suite
    ports = [str(free_port()) for _ in range(8)]
    try:
        up = callisto(
            "up",
            "--nats-port",
            ports[0],
            "--nats-monitor-port",
            ports[1],
            "--redis-port",
            ports[2],
            "--pg-port",
            ports[3],
            "--rtpengine-port",
            ports[4],
            "--sip-port",
            ports[5],
            "--sip-ws-port",
            ports[6],
            "--sip-wss-port",
            ports[7],
            "--port-offset",
            str(offset - 8100),
            "--ha",  # two instances of each singleton, the first one active
            home=home,
        )
        assert up.returncode == 0, up.stdout + up.stderr
        state = SuiteState.load(home)
        names = [p.name for p in state.processes]
        assert names[:4] == ["nats", "redis", "postgres", "rtpengine"] and "core-bus" in names
        assert {"core-bus#2", "queue-manager#2", "call-manager#2"} <= set(names) and "auth#2" not in names
        assert all(p.alive() for p in state.processes)

        admin = bearer(state, "admin")  # the demo accounts

        def registry() -> list[dict[str, object]]:
            reply = httpx.get(f"{state.urls['core-bus']}/api/v1/services", timeout=5, headers=admin)
            return list(reply.json())

        # the registry learns readiness from heartbeats (one a second), a moment after /readyz does
        wait_until(lambda: all(s["ready"] for s in registry()), 10, "every service ready in the registry")
        services_seen = sorted(str(s["service"]) for s in registry())
        assert services_seen == [
            "auth", "call-manager", "call-manager", "core-bus", "core-bus", "dialer", "dialer", "helpdesk",
            "queue-manager", "queue-manager", "recording", "snitch",
        ]  # fmt: skip
        roles = sorted((str(s["service"]), str(s["role"])) for s in registry() if s["service"] != "auth")
        assert ("call-manager", "standby") in roles and roles.count(("queue-manager", "active")) == 1
        assert roles.count(("dialer", "active")) == 1 and ("dialer", "standby") in roles
        # the newcomer's demo: softphones for the demo agents, calls through IVR, queues and agents
        shown = callisto("demo", "--calls", "4", "--talk-ms", "1500", home=home)
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert "4 of 4 calls answered" in shown.stdout, shown.stdout
        assert shown.stdout.count("agent-") >= 4 and "agent" in shown.stdout
        # snitch counted them (today's figures, from the event stream) and shows them on the wallboard

        def answered_today() -> int:
            kpis = httpx.get(f"{state.urls['snitch']}/api/v1/kpis", timeout=5, headers=admin).json()
            return sum(int(q["answered"]) for q in kpis["queues"].values())

        wait_until(lambda: answered_today() >= 4, 10, "snitch to count the demo's calls")

        def recorded() -> list[dict[str, object]]:  # the demo's calls, each recorded from the answer
            reply = httpx.get(f"{state.urls['recording']}/api/v1/recordings", timeout=5, headers=admin)
            return list(reply.json())

        wait_until(lambda: len(recorded()) >= 4, 30, "the demo's calls recorded")
        first = recorded()[0]
        heard = httpx.get(str(first["audio_url"]), timeout=5, headers={**admin, "Range": "bytes=0-3"})
        assert heard.status_code == 206 and heard.content == b"OggS", heard.status_code
        assert httpx.get(f"{state.urls['snitch']}/wallboard", timeout=5).status_code == 200
        # every metric the alert rules and the boards read is one the running services declare
        declared: set[str] = set()
        for url in (u for u in state.urls.values() if u.startswith("http")):
            text = httpx.get(f"{url}/metrics", timeout=5).text
            declared |= {family(line.split()[2]) for line in text.splitlines() if line.startswith("# TYPE ")}
        assert rule_metrics() <= declared, sorted(rule_metrics() - declared)
        assert board_metrics() <= declared, sorted(board_metrics() - declared)  # the Grafana boards' too
        # a switchover by hand: the standby call-manager binds the SIP port, the active one lets go
        handed = callisto("switchover", "call-manager", home=home)
        assert handed.returncode == 0, handed.stdout + handed.stderr
        assert "call-manager-local handed over to call-manager-local-2" in handed.stdout
        roles_shown = callisto("status", home=home).stdout
        assert any("call-manager#2" in line and "active" in line for line in roles_shown.splitlines())
        # a softphone registers at call-manager (now the second instance, same SIP port) with the SIP
        # password auth keeps for operator1
        assert register("operator1", "callisto", int(ports[5]), home) == 0
        assert register("operator1", "wrong", int(ports[5]), home) != 0
        # core-bus verifies auth's tokens (keys fetched over the bus) and obeys the permissions
        services = f"{state.urls['core-bus']}/api/v1/services"
        assert httpx.get(services, timeout=5).status_code == 401
        assert httpx.get(services, timeout=5, headers=bearer(state, "operator1")).status_code == 403
        assert (
            httpx.get(
                f"{state.urls['core-bus']}/api/v1/agents", headers=bearer(state, "operator1")
            ).status_code
            == 200
        )
        status = callisto("status", home=home)
        assert status.returncode == 0, status.stdout + status.stderr
        assert "Suite health: ok" in status.stdout

        again = callisto("up", home=home)
        assert again.returncode == 1 and "already running" in again.stdout

        # a backup of the running suite; a restore refused (the suite holds data); a forced one: the
        # services stop, get the backup's state and start again showing the same figures
        figures = (answered_today(), len(recorded()))
        archive = home / "suite.callisto-backup"
        saved = callisto("backup", str(archive), home=home)
        assert saved.returncode == 0, saved.stdout + saved.stderr
        assert "stream/CC_EVENTS" in saved.stdout and "recordings' audio" in saved.stdout, saved.stdout
        refused = callisto("restore", str(archive), home=home)
        assert refused.returncode == 1 and "not empty" in refused.stdout, refused.stdout
        restored = callisto("restore", str(archive), "--force", home=home)
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "every count read back equals the backup's" in restored.stdout, restored.stdout
        state = SuiteState.load(home)  # the services' new processes
        assert all(p.alive() for p in state.processes)
        admin = bearer(state, "admin")
        wait_until(lambda: all(s["ready"] for s in registry()), 20, "every service ready again")
        assert (answered_today(), len(recorded())) == figures

        auth_instance = next(s for s in registry() if s["service"] == "auth")["instance"]
        drained = httpx.post(f"{services}/auth/{auth_instance}/drain", timeout=10, headers=admin)
        assert drained.status_code == 202, drained.text  # core-bus's own account may drain instances
        wait_until(
            lambda: httpx.get(f"{state.urls['auth']}/readyz", timeout=2).status_code == 503, 10, "auth drains"
        )

        recorded = [(p.pid, p.start_time) for p in state.processes]
        down = callisto("down", home=home)
        assert down.returncode == 0, down.stdout + down.stderr
        for pid, started in recorded:
            assert proc_start_time(pid) != started, f"pid {pid} still runs"
        assert not (home / "state.json").exists()
        assert callisto("status", home=home).returncode == 1
    except BaseException:  # keep the suite's logs for a look: tests/artifacts/launcher-logs
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        if (home / "logs").is_dir():
            shutil.copytree(home / "logs", ARTIFACTS)
        raise
    finally:
        callisto("down", home=home)
        subprocess.run(["rm", "-rf", str(home)], check=False)
