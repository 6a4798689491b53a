"""The webhook to billing: when a campaign completes, its report's summary is POSTed to
``BILLING_WEBHOOK_URL``, signed, until billing answers 2xx.

The delivery is written in the transaction that completes the campaign (an outbox row), so a restart
never loses it; the active instance sends due ones every tick. Each try carries the same
``X-Callisto-Delivery`` id (billing drops a repeat), ``X-Callisto-Timestamp`` and
``X-Callisto-Signature: sha256=<hex>``, the HMAC-SHA256 with ``WEBHOOK_SECRET`` of
``<timestamp>.<body>``. A failed try (no answer, not 2xx) is tried again after ``RETRY_S`` doubling
each time up to an hour; every failure is counted (``callisto_dialer_webhook_failures_total``)."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx
from prometheus_client import CollectorRegistry, Counter

from callisto_dialer.report import campaign_report
from callisto_runtime.database import Database

log = logging.getLogger(__name__)
MAX_WAIT_S = 3600.0
BATCH = 10


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class Webhooks:
    def __init__(
        self, database: Database, url: str | None, secret: str, retry_s: float, registry: CollectorRegistry,
        report_url: str,
    ) -> None:  # fmt: skip
        self.db = database
        self.url = url
        self.secret = secret
        self.retry_s = retry_s
        self.report_url = report_url  # the campaign's report, for billing to fetch the detail
        self.failures = Counter(
            "callisto_dialer_webhook_failures", "Tries of a webhook to billing that failed", registry=registry
        )

    async def deliver_due(self, now: datetime) -> int:
        """Send the deliveries that are due; the number delivered."""
        if self.url is None:
            return 0
        rows = await self.db.pool.fetch(
            "SELECT w.*, c.name, c.state, c.policy, c.id"
            " FROM webhooks w JOIN campaigns c ON c.id = w.campaign_id"
            " WHERE w.delivered_at IS NULL AND w.next_at <= $1 ORDER BY w.next_at LIMIT $2",
            now, BATCH,
        )  # fmt: skip
        delivered = 0
        async with httpx.AsyncClient(timeout=10) as http:
            for row in rows:
                delivered += await self._try(http, dict(row), now)
        return delivered

    async def _try(self, http: httpx.AsyncClient, row: dict[str, Any], now: datetime) -> int:
        assert self.url is not None
        report = await campaign_report(self.db, row)
        body = json.dumps(
            {
                "event": row["event"], "delivery_id": row["delivery_id"], "campaign_id": row["campaign_id"],
                "summary": report["summary"],
                "report_url": self.report_url.format(campaign_id=row["campaign_id"]),
            },
            separators=(",", ":"), default=str,
        ).encode()  # fmt: skip
        stamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json", "X-Callisto-Delivery": row["delivery_id"],
            "X-Callisto-Timestamp": stamp, "X-Callisto-Signature": signature(self.secret, stamp, body),
        }  # fmt: skip
        try:
            answer = await http.post(self.url, content=body, headers=headers)
            failure = None if answer.is_success else f"HTTP {answer.status_code}"
        except httpx.HTTPError as exc:
            failure = f"{type(exc).__name__}: {exc}"
        if failure is None:
            await self.db.pool.execute(
                "UPDATE webhooks SET delivered_at = $2, tries = tries + 1, last_error = NULL"
                " WHERE campaign_id = $1",
                row["campaign_id"], now,
            )  # fmt: skip
            log.info("dialer: campaign %s told to billing (%s)", row["campaign_id"], row["delivery_id"])
            return 1
        self.failures.inc()
        wait = min(MAX_WAIT_S, self.retry_s * 2 ** row["tries"])
        await self.db.pool.execute(
            "UPDATE webhooks SET tries = tries + 1, next_at = $2, last_error = $3 WHERE campaign_id = $1",
            row["campaign_id"], now + timedelta(seconds=wait), failure[:500],
        )  # fmt: skip
        log.warning("dialer: webhook for %s failed (%s); again in %.0f s", row["campaign_id"], failure, wait)
        return 0
