"""The Prometheus rules the deploy files ship: valid, and firing on what they are about (promtool)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
RULES = Path(__file__).resolve().parents[1] / "deploy" / "observability" / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: the Debian package prometheus is installed by make test")
    return subprocess.run([binary, *args], capture_output=True, text=True, cwd=RULES, timeout=60)


def test_the_rules_are_valid_and_fire_on_dead_letters_and_refusals() -> None:
    checked = promtool("check", "rules", "callisto-rules.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "callisto-rules.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
