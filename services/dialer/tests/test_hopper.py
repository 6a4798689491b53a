"""The hopper on real PostgreSQL: a running campaign's due contacts planned as attempts (written with
the rules checked before anything is dialled), never twice to two takers, contacts outside their hours
or on a do-not-call list left alone; outcomes move contacts on (again later, or finished) once only;
the compliance log over HTTP."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dialer_testing import campaign, dialer

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.servers import NatsServer
from callisto_dialer.scheduling import Outcome

pytestmark = pytest.mark.integration
MONDAY_TEN_MSK = datetime(2026, 12, 7, 7, 0, tzinfo=UTC)


def debtor(external_id: str, number: str, zone: str) -> dict[str, Any]:
    return {"external_id": external_id, "numbers": [number], "time_zone": zone}


async def test_due_contacts_become_attempts_once_and_outcomes_move_them_on(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    boss = token_issuer.bearer("dialer.#", subject="supervisor1")
    async with dialer(private_nats.url, postgres_database) as (http, hopper):
        body = campaign(retries={"busy_s": 600})
        assert (await http.post("/api/v1/campaigns", json=body, headers=boss)).status_code == 201
        people = [debtor(f"M-{n}", f"+7495123450{n}", "Europe/Moscow") for n in range(6)]
        people += [
            debtor("V-1", "+74232123456", "Asia/Vladivostok"),  # 17:00 there: fine
            debtor("NY-1", "+12125550123", "America/New_York"),  # 02:00 there: later
            debtor("DNC-1", "+74951239999", "Europe/Moscow"),
        ]
        imported = await http.post("/api/v1/campaigns/debtors/contacts", json=people, headers=boss)
        assert imported.status_code == 200, imported.text
        assert (await http.put("/api/v1/dnc/+74951239999", json={}, headers=boss)).status_code == 200
        assert await hopper.take("debtors", 10, MONDAY_TEN_MSK) == []  # a draft dials nothing
        started = await http.post("/api/v1/campaigns/debtors/state", json={"action": "start"}, headers=boss)
        assert started.status_code == 200

        # two takers at once: each contact planned once
        first, second = await asyncio.gather(
            hopper.take("debtors", 4, MONDAY_TEN_MSK), hopper.take("debtors", 4, MONDAY_TEN_MSK)
        )
        planned = first + second
        assert sorted(a["external_id"] for a in planned) == ["M-0", "M-1", "M-2", "M-3", "M-4", "M-5", "V-1"]
        assert await hopper.take("debtors", 10, MONDAY_TEN_MSK) == []  # the others are not due
        contacts = {c["external_id"]: c for c in (await http.get(
            "/api/v1/campaigns/debtors/contacts", headers=boss)).json()}  # fmt: skip
        assert contacts["M-0"]["state"] == "calling"
        assert (
            contacts["NY-1"]["state"] == "pending" and contacts["NY-1"]["next_at"] == "2026-12-07T13:00:00Z"
        )
        assert (contacts["DNC-1"]["state"], contacts["DNC-1"]["outcome"]) == ("done", "do-not-call")

        by_id = {a["external_id"]: a["id"] for a in planned}
        await hopper.dialling(by_id["M-0"], "call-m0", MONDAY_TEN_MSK)
        later = MONDAY_TEN_MSK + timedelta(minutes=1)
        assert await hopper.finish(by_id["M-0"], Outcome.ANSWERED, later) == "answered"
        assert await hopper.finish(by_id["M-0"], Outcome.BUSY, later) is None  # once only
        assert await hopper.finish(by_id["M-1"], Outcome.BUSY, later) is None  # again in 10 minutes
        # ten minutes on: M-1 is due again, and 230-FZ allows one call a day: tomorrow at 08:00
        assert await hopper.take("debtors", 10, later + timedelta(minutes=11)) == []
        contacts = {c["external_id"]: c for c in (await http.get(
            "/api/v1/campaigns/debtors/contacts", headers=boss)).json()}  # fmt: skip
        assert (contacts["M-0"]["state"], contacts["M-0"]["outcome"], contacts["M-0"]["attempts"]) == (
            "done", "answered", 1,
        )  # fmt: skip
        assert contacts["M-1"]["next_at"] == "2026-12-08T05:00:00Z" and contacts["M-1"]["attempts"] == 1
        tomorrow = await hopper.take("debtors", 10, datetime(2026, 12, 8, 5, 0, tzinfo=UTC))
        assert [a["external_id"] for a in tomorrow] == ["M-1"]

        log = (await http.get("/api/v1/campaigns/debtors/attempts", headers=boss)).json()
        assert len(log) == 8 and log[0]["policy"] == "ru-230fz"
        answered = next(a for a in log if a["id"] == by_id["M-0"])
        assert (answered["state"], answered["outcome"], answered["call_id"]) == (
            "ended",
            "answered",
            "call-m0",
        )
        assert "Europe/Moscow: hours (working day 08:00-22:00): ok" in answered["checked"]
        again = next(a for a in log if a["external_id"] == "M-1" and a["state"] == "planned")
        assert "Europe/Moscow: per day (0 of 1): ok" in again["checked"]  # a new local day

        paused = await http.post("/api/v1/campaigns/debtors/state", json={"action": "pause"}, headers=boss)
        assert paused.status_code == 200
        assert await hopper.take("debtors", 10, datetime(2026, 12, 8, 13, 0, tzinfo=UTC)) == []
