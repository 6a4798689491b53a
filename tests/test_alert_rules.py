"""The Prometheus rules the deploy files ship: valid, and each alert firing on what it is about in a
case of its own (promtool); the metrics they name are the services' (see test_launcher.py, which
reads the running suite's /metrics)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit
RULES = Path(__file__).resolve().parents[1] / "deploy" / "observability" / "prometheus"
METRIC = re.compile(r"\b(callisto_[a-z0-9_]+)")
SUFFIXES = ("_total", "_created", "_bucket", "_count", "_sum")


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: the Debian package prometheus is installed by make test")
    return subprocess.run([binary, *args], capture_output=True, text=True, cwd=RULES, timeout=60)


def family(name: str) -> str:
    """A sample's or a declaration's metric family: ``x_total``, ``x_bucket`` ... are ``x``."""
    for suffix in SUFFIXES:
        name = name.removesuffix(suffix)
    return name


def rule_metrics() -> set[str]:
    """The metric families the rules read (recorded series left out)."""
    groups = yaml.safe_load((RULES / "callisto-rules.yml").read_text())["groups"]
    return {
        family(name)
        for rule in (r for g in groups for r in g["rules"])
        for name in METRIC.findall(rule["expr"])
    }


def test_the_rules_are_valid_and_every_alert_fires_in_a_case_of_its_own() -> None:
    checked = promtool("check", "rules", "callisto-rules.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "callisto-rules.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    groups = yaml.safe_load((RULES / "callisto-rules.yml").read_text())["groups"]
    alerts = {r["alert"] for g in groups for r in g["rules"] if "alert" in r}
    cases = yaml.safe_load((RULES / "callisto-rules.test.yml").read_text())["tests"]
    # each case's expected alerts are the exact set: the series beside it (another queue, a healthy
    # check, a job that is not Callisto's) must not fire
    firing = {c["alertname"] for t in cases for c in t["alert_rule_test"] if c["exp_alerts"]}
    assert firing == alerts, sorted(alerts ^ firing)
    assert "callisto_service_check" in rule_metrics() and "callisto_cm_trunk_calls" in rule_metrics()
