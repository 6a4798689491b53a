"""Callisto's Grafana boards, written as provisioned JSON:

    .venv/bin/python scripts/grafana_boards.py deploy/observability/grafana/dashboards

Five boards: calls and queues, agents, telephony, bus and services, service desk. Every query names
metrics the services export: tests/test_grafana_boards.py checks that the committed files are these,
that every query parses (promtool), and tests/test_launcher.py that every metric named is one the
running suite's /metrics declares.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATASOURCE = {"type": "prometheus", "uid": "callisto-prometheus"}


@dataclass(frozen=True)
class Query:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: str = "timeseries"  # or stat
    description: str = ""
    width: int = 12


@dataclass(frozen=True)
class Board:
    uid: str
    title: str
    panels: tuple[Panel, ...]
    tags: tuple[str, ...] = field(default=("callisto",))


def q(expr: str, legend: str = "") -> Query:
    return Query(expr, legend)


BOARDS = (
    Board(
        "callisto-queues",
        "Callisto: calls and queues",
        (
            Panel("Calls waiting", (q("sum by (queue) (callisto_snitch_queue_waiting_calls)", "{{queue}}"),)),
            Panel(
                "Longest wait against the target",
                (
                    q("max by (queue) (callisto_snitch_queue_longest_wait_seconds)", "{{queue}}"),
                    q(
                        "max by (queue) (callisto_snitch_queue_longest_wait_target_seconds)",
                        "{{queue}} target",
                    ),
                ),
                unit="s",
            ),
            Panel(
                "Service level today against the target",
                (
                    q("max by (queue) (callisto_snitch_queue_service_level_ratio)", "{{queue}}"),
                    q(
                        "max by (queue) (callisto_snitch_queue_service_level_target_ratio)",
                        "{{queue}} target",
                    ),
                ),
                unit="percentunit",
            ),
            Panel(
                "Abandon rate today against the target",
                (
                    q("max by (queue) (callisto_snitch_queue_abandon_ratio)", "{{queue}}"),
                    q("max by (queue) (callisto_snitch_queue_abandon_target_ratio)", "{{queue}} target"),
                ),
                unit="percentunit",
            ),
            Panel(
                "Offered, answered, abandoned today",
                (
                    q("sum(callisto_snitch_queue_offered_calls_today)", "offered"),
                    q("sum(callisto_snitch_queue_answered_calls_today)", "answered"),
                    q("sum(callisto_snitch_queue_abandoned_calls_today)", "abandoned"),
                ),
            ),
            Panel(
                "Speed of answer and handling time today",
                (
                    q("max by (queue) (callisto_snitch_queue_asa_seconds)", "ASA {{queue}}"),
                    q("max by (queue) (callisto_snitch_queue_aht_seconds)", "AHT {{queue}}"),
                ),
                unit="s",
            ),
            Panel(
                "Lines: service level today",
                (q("max by (line) (callisto_snitch_line_service_level_ratio)", "{{line}}"),),
                unit="percentunit",
            ),
            Panel(
                "Callbacks not made yet",
                (q("sum by (queue) (callisto_snitch_queue_callbacks_pending)", "{{queue}}"),),
            ),
        ),
    ),
    Board(
        "callisto-agents",
        "Callisto: agents",
        (
            Panel(
                "Agents by state (per line)",
                (q("sum by (line, state) (callisto_snitch_line_agents)", "{{line}} {{state}}"),),
            ),
            Panel(
                "Occupancy today",
                (q("max by (queue) (callisto_snitch_queue_occupancy_ratio)", "{{queue}}"),),
                unit="percentunit",
            ),
            Panel(
                "Agents in the broadcast list",
                (q("max(callisto_list_agents)", "agents"),),
                kind="stat",
                width=6,
            ),
            Panel(
                "Operator clients connected",
                (q("sum(callisto_gateway_connections)", "connections"),),
                kind="stat",
                width=6,
            ),
            Panel(
                "Events relayed to clients",
                (q("sum by (stream) (rate(callisto_gateway_events_sent_total[5m]))", "{{stream}}"),),
                unit="ops",
            ),
        ),
    ),
    Board(
        "callisto-telephony",
        "Callisto: telephony",
        (
            Panel("Calls by state", (q('sum by (state) (callisto_cm_calls{state!="ended"})', "{{state}}"),)),
            Panel(
                "Calls out through each trunk",
                (
                    q(
                        "sum by (trunk, outcome) (rate(callisto_cm_trunk_calls_total[5m]))",
                        "{{trunk}} {{outcome}}",
                    ),
                ),
                unit="ops",
            ),
            Panel(
                "SIP and media events",
                (q("sum by (part, event) (rate(callisto_cm_events_total[5m]))", "{{part}} {{event}}"),),
                unit="ops",
            ),
            Panel(
                "rtpengine reachable",
                (q('min by (instance) (callisto_service_check{check="rtpengine"})', "{{instance}}"),),
                kind="stat",
                width=6,
            ),
            Panel(
                "WSS certificate: days left",
                (q("(min(callisto_cm_tls_certificate_expiry_timestamp_seconds) - time()) / 86400", "days"),),
                kind="stat",
                unit="d",
                width=6,
            ),
            Panel(
                "Recording storage: free share",
                (q("min by (dir) (callisto_recording_free_ratio)", "{{dir}}"),),
                unit="percentunit",
            ),
            Panel(
                "Recordings converted, quarantined, deleted",
                (q("sum by (outcome) (rate(callisto_recording_conversions_total[15m]))", "{{outcome}}"),),
                unit="ops",
                description="storage level: 0 ok, 1 low, 2 conversions wait, 3 new recordings refused",
            ),
            Panel(
                "Recording storage level",
                (q("max(callisto_recording_storage_level)", "level"),),
                kind="stat",
                width=6,
            ),
        ),
    ),
    Board(
        "callisto-bus",
        "Callisto: bus and services",
        (
            Panel("Ready instances", (q("sum by (job) (callisto_service_ready)", "{{job}}"),)),
            Panel("Active instances (lease held)", (q("sum by (job) (callisto_service_leader)", "{{job}}"),)),
            Panel(
                "Failing readiness checks",
                (q("count by (job, check) (callisto_service_check == 0)", "{{job}} {{check}}"),),
            ),
            Panel(
                "Messages published and received",
                (
                    q("sum by (job) (rate(callisto_bus_published_total[5m]))", "{{job}} out"),
                    q("sum by (job) (rate(callisto_bus_received_total[5m]))", "{{job}} in"),
                ),
                unit="ops",
            ),
            Panel(
                "Handler time p99",
                (
                    q(
                        "histogram_quantile(0.99, sum by (le, job) "
                        "(rate(callisto_bus_handle_seconds_bucket[5m])))",
                        "{{job}}",
                    ),
                ),
                unit="s",
            ),
            Panel(
                "Durable consumers behind the stream",
                (q("max by (consumer) (callisto_bus_consumer_pending)", "{{consumer}}"),),
            ),
            Panel(
                "Dead letters in the last hour",
                (
                    q(
                        "sum by (consumer, cause) (increase(callisto_bus_dead_letters_total[1h]))",
                        "{{consumer}} {{cause}}",
                    ),
                ),
            ),
            Panel(
                "Outbox and reconnections",
                (
                    q("sum by (job) (callisto_bus_outbox_pending)", "{{job}} outbox"),
                    q("sum by (job) (increase(callisto_bus_reconnects_total[15m]))", "{{job}} reconnects"),
                ),
            ),
        ),
    ),
    Board(
        "callisto-desk",
        "Callisto: service desk",
        (
            Panel(
                "SLA warnings and breaches announced",
                (
                    q(
                        "sum by (standing) (increase(callisto_helpdesk_sla_announced_total[1h]))",
                        "{{standing}}",
                    ),
                ),
            ),
            Panel(
                "Mail in and out",
                (
                    q("sum(rate(callisto_helpdesk_mail_received_total[15m]))", "received"),
                    q("sum(rate(callisto_helpdesk_mail_sent_total[15m]))", "sent"),
                    q("sum(rate(callisto_helpdesk_mail_failed_total[15m]))", "failed"),
                ),
                unit="ops",
            ),
            Panel(
                "Tickets classified",
                (q("sum by (routed) (rate(callisto_helpdesk_classified_total[1h]))", "routed {{routed}}"),),
                unit="ops",
            ),
            Panel(
                "Classifier's held-out accuracy",
                (q("max(callisto_helpdesk_classifier_accuracy)", "accuracy"),),
                kind="stat",
                unit="percentunit",
                width=6,
            ),
            Panel(
                "Notifications given up on",
                (q("sum(increase(callisto_helpdesk_notifications_dead_total[1h]))", "given up"),),
                kind="stat",
                width=6,
            ),
            Panel(
                "Monitoring alerts received",
                (q("sum by (outcome) (rate(callisto_helpdesk_alerts_total[1h]))", "{{outcome}}"),),
                unit="ops",
            ),
        ),
    ),
)


def panel_json(panel: Panel, number: int, x: int, y: int) -> dict[str, Any]:
    return {
        "id": number,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom"}}
        if panel.kind == "timeseries"
        else {},
        "targets": [
            {
                "refId": chr(ord("A") + n),
                "datasource": DATASOURCE,
                "expr": query.expr,
                "legendFormat": query.legend,
            }
            for n, query in enumerate(panel.queries)
        ],
    }


def board_json(board: Board) -> dict[str, Any]:
    panels, x, y = [], 0, 0
    for number, panel in enumerate(board.panels, start=1):
        if x + panel.width > 24:
            x, y = 0, y + 8
        panels.append(panel_json(panel, number, x, y))
        x += panel.width
    return {
        "uid": board.uid,
        "title": board.title,
        "tags": list(board.tags),
        "editable": False,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "timezone": "browser",
        "panels": panels,
    }


def queries() -> list[str]:
    return [query.expr for board in BOARDS for panel in board.panels for query in panel.queries]


def text(board: Board) -> str:
    return json.dumps(board_json(board), indent=1, sort_keys=True) + "\n"


def main() -> None:
    folder = Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    for board in BOARDS:
        (folder / f"{board.uid}.json").write_text(text(board))


if __name__ == "__main__":
    main()
