"""Campaigns on real PostgreSQL and NATS: created, changed, moved through their states by people with
the permission (each change logged, told on the bus with who did it), refused with the actions that
are allowed; a finished campaign's list and settings stay as they ended; other services list them."""

from __future__ import annotations

import asyncio

import pytest
from bus_testing import connected_bus
from dialer_testing import campaign, dialer

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.servers import NatsServer
from callisto_protocol import Envelope
from callisto_protocol.dialer import CampaignList, CampaignState, CampaignStateChanged, ListCampaigns

pytestmark = pytest.mark.integration


async def test_a_campaign_goes_through_its_states_and_each_change_is_logged_and_told(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    supervisor = token_issuer.bearer("dialer.#", subject="supervisor1")
    reader = token_issuer.bearer("dialer.campaigns.read")
    told: list[CampaignStateChanged] = []
    async with (
        connected_bus(private_nats.url, "snitch", "watcher") as watcher,
        dialer(private_nats.url, postgres_database) as (http, _),
    ):

        async def seen(event: CampaignStateChanged, _: Envelope) -> None:
            told.append(event)

        await watcher.subscribe(CampaignStateChanged, seen)
        assert (await http.post("/api/v1/campaigns", json=campaign())).status_code == 401
        assert (await http.post("/api/v1/campaigns", json=campaign(), headers=reader)).status_code == 403
        created = await http.post("/api/v1/campaigns", json=campaign(), headers=supervisor)
        assert created.status_code == 201, created.text
        assert created.json()["state"] == "draft" and created.json()["actions"] == ["schedule", "start"]
        again = await http.post("/api/v1/campaigns", json=campaign(), headers=supervisor)
        assert again.status_code == 409 and again.json()["error_id"] == "campaign-exists"
        backwards = campaign(
            "later", starts_at="2026-12-10T09:00:00+03:00", ends_at="2026-12-09T09:00:00+03:00"
        )
        assert (await http.post("/api/v1/campaigns", json=backwards, headers=supervisor)).status_code == 422

        async def act(action: str, reason: str = "") -> tuple[int, dict[str, object]]:
            reply = await http.post(
                "/api/v1/campaigns/debtors/state",
                json={"action": action, "reason": reason},
                headers=supervisor,
            )
            return reply.status_code, reply.json()

        code, refused = await act("pause")
        assert code == 409 and refused["error_id"] == "illegal-transition"
        assert refused["details"] == {"state": "draft", "action": "pause", "allowed": ["schedule", "start"]}
        assert (await act("schedule"))[1]["state"] == "scheduled"
        assert (await act("start"))[1]["state"] == "running"
        settings = {k: v for k, v in campaign(priority=2).items() if k != "id"}
        running = await http.put("/api/v1/campaigns/debtors", json=settings, headers=supervisor)
        assert running.status_code == 409  # paused first
        assert (await act("pause", "lunch"))[1]["actions"] == ["resume", "stop", "complete"]
        changed = await http.put("/api/v1/campaigns/debtors", json=settings, headers=supervisor)
        assert changed.status_code == 200 and changed.json()["priority"] == 2
        assert (await act("resume"))[1]["state"] == "running"
        assert (await act("stop", "the list was wrong"))[1]["state"] == "stopped"
        code, finished = await act("resume")
        assert code == 409 and finished["details"]["allowed"] == []
        locked = await http.put("/api/v1/campaigns/debtors", json=settings, headers=supervisor)
        assert locked.status_code == 409 and locked.json()["error_id"] == "campaign-locked"
        late = await http.post(
            "/api/v1/campaigns/debtors/contacts", json=[{"external_id": "a", "numbers": ["+74951234567"]}],
            headers=token_issuer.bearer("dialer.lists.import"),
        )  # fmt: skip
        assert late.status_code == 409 and late.json()["error_id"] == "campaign-locked"

        log = (await http.get("/api/v1/campaigns/debtors/log", headers=reader)).json()
        assert [(e["action"], e["state"]) for e in log] == [
            ("create", "draft"), ("schedule", "scheduled"), ("start", "running"), ("pause", "paused"),
            ("resume", "running"), ("stop", "stopped"),
        ]  # fmt: skip
        assert log[3]["reason"] == "lunch" and log[3]["by"] == "supervisor1"
        async with asyncio.timeout(5):
            while len(told) < 5:
                await asyncio.sleep(0.02)
        assert [(e.previous, e.state) for e in told] == [
            (CampaignState.DRAFT, CampaignState.SCHEDULED), (CampaignState.SCHEDULED, CampaignState.RUNNING),
            (CampaignState.RUNNING, CampaignState.PAUSED), (CampaignState.PAUSED, CampaignState.RUNNING),
            (CampaignState.RUNNING, CampaignState.STOPPED),
        ]  # fmt: skip
        assert told[-1].by == "supervisor1" and told[-1].reason == "the list was wrong"

        # other services ask over the bus: the unfinished ones, or all
        other = await http.post("/api/v1/campaigns", json=campaign("water-notices"), headers=supervisor)
        assert other.status_code == 201
        token = token_issuer.token("dialer.campaigns.read")
        current = await watcher.call(ListCampaigns(), CampaignList, token=token, timeout=5)
        assert [c.campaign_id for c in current.campaigns] == ["water-notices"]
        everything = await watcher.call(ListCampaigns(finished=True), CampaignList, token=token, timeout=5)
        assert {c.campaign_id: c.state for c in everything.campaigns} == {
            "debtors": CampaignState.STOPPED, "water-notices": CampaignState.DRAFT,
        }  # fmt: skip
        listed = (await http.get("/api/v1/campaigns", headers=reader)).json()
        assert [c["id"] for c in listed] == ["water-notices"]
        assert (await http.get("/api/v1/campaigns/nope", headers=reader)).status_code == 404
