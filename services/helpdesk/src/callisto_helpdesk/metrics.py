"""helpdesk's Prometheus metrics: mail out and in, SLA warnings and breaches, alerts, the classifier."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class HelpdeskMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        registry = registry or CollectorRegistry()
        self.mail_sent = Counter("callisto_helpdesk_mail_sent", "Notification mails sent.", registry=registry)
        self.notifications_dead = Counter(
            "callisto_helpdesk_notifications_dead",
            "Notifications given up (cannot be composed, or refused too often); kept for a retry.",
            registry=registry,
        )
        self.mail_failed = Counter(
            "callisto_helpdesk_mail_failed", "Notification mails the SMTP server did not take (tried again).",
            registry=registry,
        )  # fmt: skip
        self.mail_received = Counter(
            "callisto_helpdesk_mail_received", "Inbound mails stored in tickets.", registry=registry
        )
        self.sla_announced = Counter(
            "callisto_helpdesk_sla_announced", "SLA warnings and breaches announced.", ["standing"],
            registry=registry,
        )  # fmt: skip
        self.alerts = Counter(
            "callisto_helpdesk_alerts", "Monitoring alerts received, by what became of them.", ["outcome"],
            registry=registry,
        )  # fmt: skip
        self.classified = Counter(
            "callisto_helpdesk_classified", "New tickets the classifier routed or only suggested for.",
            ["routed"], registry=registry,
        )  # fmt: skip
        self.classifier_accuracy = Gauge(
            "callisto_helpdesk_classifier_accuracy",
            "Held-out accuracy of the last training.",
            registry=registry,
        )
