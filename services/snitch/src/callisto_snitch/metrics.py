"""The KPIs as Prometheus metrics (labels ``queue`` or ``line``), read from the latest snapshot when
Prometheus scrapes, so Grafana charts the same figures as the wallboard; with each queue's and
line's targets beside them, so alert rules compare the two without knowing the definitions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from callisto_snitch.definitions import Definitions

FIGURES = (  # snapshot field, metric suffix, help
    ("waiting", "waiting_calls", "calls waiting now"),
    ("longest_wait_s", "longest_wait_seconds", "how long the longest-waiting call has waited"),
    ("callbacks_pending", "callbacks_pending", "callbacks not yet done"),
    ("offered", "offered_calls_today", "calls that entered today"),
    ("answered", "answered_calls_today", "calls answered today"),
    ("abandoned", "abandoned_calls_today", "callers who hung up while waiting today"),
    ("short_abandoned", "short_abandoned_calls_today", "abandons sooner than the short-abandon threshold"),
    ("service_level", "service_level_ratio", "service level today (by the queue's basis)"),
    ("asa_s", "asa_seconds", "average speed of answer today"),
    ("aht_s", "aht_seconds", "average handling time today (talk + wrap-up)"),
    ("abandon_rate", "abandon_ratio", "abandon rate today (short abandons left out)"),
    ("occupancy", "occupancy_ratio", "busy time / (busy + available time) of the agents today"),
)


TARGETS = (  # target, metric suffix, help
    ("service_level", "service_level_target_ratio", "the service level target"),
    ("abandon_rate", "abandon_target_ratio", "the abandon rate target"),
    ("longest_wait_s", "longest_wait_target_seconds", "the longest wait target"),
    ("asa_s", "asa_target_seconds", "the average speed of answer target"),
)


class KpiCollector(Collector):
    def __init__(
        self, snapshot: Callable[[], dict[str, Any]], definitions: Callable[[], Definitions]
    ) -> None:
        self.snapshot = snapshot
        self.definitions = definitions  # the version in use (a new one may come at any time)

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self.snapshot()
        definitions = self.definitions()
        for scope in ("queue", "line"):
            rows: dict[str, dict[str, Any]] = snap[scope + "s"]
            for field, suffix, text in FIGURES:
                family = GaugeMetricFamily(
                    f"callisto_snitch_{scope}_{suffix}", f"{text} (per {scope})", labels=[scope]
                )
                for key, figures in rows.items():
                    if figures.get(field) is not None:
                        family.add_metric([key], float(figures[field]))
                yield family
            agents = GaugeMetricFamily(
                f"callisto_snitch_{scope}_agents", f"agents by state (per {scope})", labels=[scope, "state"]
            )
            for key, figures in rows.items():
                for state, count in figures["agents"].items():
                    agents.add_metric([key, state], float(count))
            yield agents
            for target, suffix, text in TARGETS:
                family = GaugeMetricFamily(
                    f"callisto_snitch_{scope}_{suffix}", f"{text} (per {scope})", labels=[scope]
                )
                for key in rows:
                    if scope == "queue":
                        definition = definitions.queue(key)
                    elif key in definitions.lines:
                        definition = definitions.line(key)
                    else:
                        continue  # a line the newest version removed, still in the last snapshot
                    family.add_metric([key], float(getattr(definition.targets, target)))
                yield family
