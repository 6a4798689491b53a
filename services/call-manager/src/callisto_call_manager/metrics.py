"""call-manager's figures for Prometheus, read when it scrapes: calls held by state, INVITEs through
each trunk by outcome (the trunk-failing alert), the counters the SIP endpoint, registrar,
switchboard, rtpengine client and DTMF reader keep, and when the WSS certificate expires."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from callisto_call_manager.switchboard import Switchboard
from callisto_protocol.calls import CallState


class CallManagerCollector(Collector):
    def __init__(
        self,
        board: Switchboard,
        parts: Mapping[str, Counter[str]],
        certificate_expiry: float | None,
    ) -> None:
        self.board = board
        self.parts = parts
        self.certificate_expiry = certificate_expiry

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        calls = GaugeMetricFamily(
            "callisto_cm_calls", "Calls this instance holds, by state", labels=["state"]
        )
        held = Counter(call.state for call in self.board.table.calls.values())
        for state in CallState:
            calls.add_metric([state.value], held.get(state, 0))
        yield calls
        trunks = CounterMetricFamily(
            "callisto_cm_trunk_calls", "INVITEs sent through a trunk, by outcome", labels=["trunk", "outcome"]
        )
        for (trunk, outcome), count in sorted(self.board.trunk_outcomes.items()):
            trunks.add_metric([trunk, outcome], count)
        yield trunks
        events = CounterMetricFamily(
            "callisto_cm_events",
            "What the SIP and media parts counted, by part and event",
            labels=["part", "event"],
        )
        for part, counted in self.parts.items():
            for event, count in sorted(counted.items()):
                events.add_metric([part, event], count)
        yield events
        if self.certificate_expiry is not None:
            yield GaugeMetricFamily(
                "callisto_cm_tls_certificate_expiry_timestamp_seconds",
                "When the SIP over WSS certificate expires (seconds since the epoch)",
                value=self.certificate_expiry,
            )
