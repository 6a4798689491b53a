"""Callisto's Grafana boards: the committed JSON is what scripts/grafana_boards.py writes, every
query parses (promtool reads them as recording rules), and the metrics they name are the
services' (test_launcher.py compares them with the running suite's /metrics)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from test_alert_rules import family

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]
BOARDS = ROOT / "deploy" / "observability" / "grafana" / "dashboards"
METRIC = re.compile(r"\b(callisto_[a-z0-9_]+)")


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("grafana_boards", ROOT / "scripts" / "grafana_boards.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def board_metrics() -> set[str]:
    """The metric families the boards' queries read (counters and histograms by family name)."""
    return {family(name) for expr in generator().queries() for name in METRIC.findall(expr)}


def test_the_committed_boards_are_the_generated_ones_and_every_query_parses(tmp_path: Path) -> None:
    boards = generator()
    for board in boards.BOARDS:
        committed = BOARDS / f"{board.uid}.json"
        assert committed.read_text() == boards.text(board), f"run scripts/grafana_boards.py: {committed.name}"
        panels = json.loads(committed.read_text())["panels"]
        assert all(p["targets"] and p["datasource"]["uid"] == "callisto-prometheus" for p in panels)
    assert {p.name for p in BOARDS.glob("*.json")} == {f"{b.uid}.json" for b in boards.BOARDS}
    rules = {"groups": [{"name": "boards", "rules": [
        {"record": f"board:query_{n}:check", "expr": expr} for n, expr in enumerate(boards.queries())
    ]}]}  # fmt: skip
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules))
    promtool = shutil.which("promtool")
    assert promtool is not None, (
        "promtool is missing: the Debian package prometheus is installed by make test"
    )
    checked = subprocess.run([promtool, "check", "rules", "queries.yml"], capture_output=True, text=True,
                             cwd=tmp_path, timeout=60)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert {"callisto_snitch_queue_service_level_ratio", "callisto_cm_trunk_calls"} <= board_metrics()
