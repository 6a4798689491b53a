"""The webhook to billing, against a real HTTP server: a campaign with nothing left to call completes
by itself, billing is told with the report's summary, signed; a refused try is tried again with the
same delivery id until billing takes it."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any

import pytest
from dialer_testing import campaign, dialer
from fastapi import FastAPI, Request, Response

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer

pytestmark = pytest.mark.integration
SECRET = "billing-shared-secret-0123456789"


def billing() -> tuple[FastAPI, list[dict[str, Any]]]:
    """Billing's endpoint: refuses the first delivery (503), takes the others; keeps what came."""
    app = FastAPI()
    received: list[dict[str, Any]] = []

    @app.post("/hooks/callisto")
    async def hook(request: Request) -> Response:
        received.append({"headers": dict(request.headers), "body": await request.body()})
        return Response(status_code=503 if len(received) == 1 else 204)

    return app, received


async def test_a_completed_campaign_is_told_to_billing_signed_and_again_until_taken(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    boss = token_issuer.bearer("dialer.#", subject="supervisor1")
    app, received = billing()
    port = free_port()
    async with serve_in_process(app, port) as base:
        settings = {
            "billing_webhook_url": f"{base}/hooks/callisto", "webhook_secret": SECRET, "webhook_retry_s": 0.2,
            "tick_s": 0.2,
        }  # fmt: skip
        async with dialer(private_nats.url, postgres_database, **settings) as (http, _):
            assert (await http.post("/api/v1/campaigns", json=campaign(), headers=boss)).status_code == 201
            people = [{"external_id": "X-1", "numbers": ["+74951234567"], "remove": False}]
            assert (
                await http.post("/api/v1/campaigns/debtors/contacts", json=people, headers=boss)
            ).status_code == 200
            assert (
                await http.delete("/api/v1/campaigns/debtors/contacts/X-1", headers=boss)
            ).status_code == 204
            started = await http.post(
                "/api/v1/campaigns/debtors/state", json={"action": "start"}, headers=boss
            )
            assert started.status_code == 200  # nothing left to call: the runner completes it
            async with asyncio.timeout(20):
                while len(received) < 2:
                    await asyncio.sleep(0.05)
            found = (await http.get("/api/v1/campaigns/debtors", headers=boss)).json()
            assert found["state"] == "completed"
            log = (await http.get("/api/v1/campaigns/debtors/log", headers=boss)).json()
            assert (log[-1]["by"], log[-1]["reason"]) == ("system", "nothing is left to call")
    first, second = received
    assert first["headers"]["x-callisto-delivery"] == second["headers"]["x-callisto-delivery"]
    for delivery in (first, second):
        stamp = delivery["headers"]["x-callisto-timestamp"]
        wanted = hmac.new(
            SECRET.encode(), stamp.encode() + b"." + delivery["body"], hashlib.sha256
        ).hexdigest()
        assert delivery["headers"]["x-callisto-signature"] == f"sha256={wanted}"
    body = json.loads(second["body"])
    assert (body["event"], body["campaign_id"]) == ("campaign.completed", "debtors")
    assert body["summary"]["contacts"] == 0 and body["report_url"].endswith(
        "/api/v1/campaigns/debtors/report"
    )
