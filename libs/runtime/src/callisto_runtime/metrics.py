"""Prometheus metrics shared by every service, registered on the service's own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class BusMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.published = Counter(
            "callisto_bus_published",
            "Messages handed to NATS, by delivery mode.",
            ["mode"],
            registry=registry,
        )
        self.publish_dropped = Counter(
            "callisto_bus_publish_dropped",
            "Messages that could not be buffered and were dropped.",
            ["reason"],
            registry=registry,
        )
        self.outbox_pending = Gauge(
            "callisto_bus_outbox_pending",
            "Stream events accepted but not yet acknowledged by JetStream.",
            registry=registry,
        )
        self.received = Counter(
            "callisto_bus_received",
            "Messages received, by message type.",
            ["message_type"],
            registry=registry,
        )
        self.rejected = Counter(
            "callisto_bus_rejected",
            "Messages refused as malformed, by message type and error id.",
            ["message_type", "error_id"],
            registry=registry,
        )
        self.handler_errors = Counter(
            "callisto_bus_handler_errors",
            "Handlers that raised an unexpected error.",
            ["message_type"],
            registry=registry,
        )
        self.handle_seconds = Histogram(
            "callisto_bus_handle_seconds",
            "Time spent in message handlers.",
            ["message_type"],
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0),
            registry=registry,
        )
        self.dead_letters = Counter(
            "callisto_bus_dead_letters",
            "Events a durable consumer gave up on and stored as dead letters, by consumer and cause.",
            ["consumer", "cause"],
            registry=registry,
        )
        self.consumer_pending = Gauge(
            "callisto_bus_consumer_pending",
            "Events in the stream a durable consumer has not fetched yet, as of its last fetch.",
            ["consumer"],
            registry=registry,
        )
        self.connected = Gauge("callisto_bus_connected", "1 while connected to NATS.", registry=registry)
        self.reconnects = Counter(
            "callisto_bus_reconnects", "Reconnections to NATS after a loss.", registry=registry
        )
