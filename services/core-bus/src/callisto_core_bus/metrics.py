"""Prometheus metrics of the suite as core-bus sees it, computed at scrape time."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from callisto_core_bus.suite import Suite
from callisto_protocol.control import HealthStatus


class SuiteCollector(Collector):
    def __init__(self, suite: Suite) -> None:
        self.suite = suite

    def collect(self) -> Iterator[GaugeMetricFamily]:
        health = self.suite.health()
        instances = GaugeMetricFamily(
            "callisto_registry_instances",
            "Instances known to the registry, by service and state.",
            labels=["service", "state"],
        )
        up = GaugeMetricFamily(
            "callisto_registry_service_up",
            "1 when the service has a ready, active instance.",
            labels=["service"],
        )
        status = GaugeMetricFamily(
            "callisto_registry_service_status",
            "1 for the service's current health status.",
            labels=["service", "status"],
        )
        for svc in health.services:
            for state, count in (
                ("ready", svc.ready),
                ("not_ready", svc.alive - svc.ready),
                ("standby", svc.standby),
                ("draining", svc.draining),
                ("gone", svc.gone),
            ):
                instances.add_metric([svc.service, state], count)
            up.add_metric([svc.service], 0 if svc.status is HealthStatus.DOWN else 1)
            for value in HealthStatus:
                status.add_metric([svc.service, value.value], 1 if svc.status is value else 0)
        yield instances
        yield up
        yield status
        yield GaugeMetricFamily(
            "callisto_list_agents", "Agents in the broadcast agent list.", value=len(self.suite.agents)
        )
        yield GaugeMetricFamily(
            "callisto_list_calls", "Calls in the broadcast call list.", value=len(self.suite.calls)
        )
