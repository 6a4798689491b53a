"""The hopper on real PostgreSQL: a running campaign's due contacts planned as attempts (written with
the rules checked before anything is dialled), never twice to two takers, contacts outside their hours
or on a do-not-call list left alone; outcomes move contacts on (again later, or finished) once only;
the compliance log over HTTP; the agent's dispositions (before or after the call's end is known)."""

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


async def test_dispositions_move_the_contact_on_whenever_they_come(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    boss = token_issuer.bearer("dialer.#", subject="supervisor1")
    operator = token_issuer.bearer(
        "dialer.agents.{agent_id}.dispositions", subject="operator1", agent_id="agent-1"
    )
    other = token_issuer.bearer(
        "dialer.agents.{agent_id}.dispositions", subject="operator2", agent_id="agent-2"
    )
    async with dialer(private_nats.url, postgres_database) as (http, hopper):
        assert (await http.post("/api/v1/campaigns", json=campaign(), headers=boss)).status_code == 201
        people = [debtor(f"D-{n}", f"+7495123460{n}", "Europe/Moscow") for n in range(4)]
        assert (
            await http.post("/api/v1/campaigns/debtors/contacts", json=people, headers=boss)
        ).status_code == 200
        await http.post("/api/v1/campaigns/debtors/state", json={"action": "start"}, headers=boss)
        planned = {a["external_id"]: a["id"] for a in await hopper.take("debtors", 4, MONDAY_TEN_MSK)}
        talk = MONDAY_TEN_MSK + timedelta(seconds=15)
        for external_id in ("D-0", "D-1", "D-2"):
            await hopper.answered(planned[external_id], talk)
            await hopper.connected(planned[external_id], "agent-1", talk)

        async def dispose(external_id: str, body: dict[str, Any], headers: dict[str, str]) -> Any:
            return await http.post(
                f"/api/v1/attempts/{planned[external_id]}/disposition", json=body, headers=headers
            )

        # in wrap-up, before the call's end is known here: kept, then applied when it ends
        soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        assert (await dispose("D-0", {"code": "call-back", "callback_at": soon}, other)).status_code == 403
        kept = await dispose(
            "D-0", {"code": "call-back", "callback_at": soon, "note": "after payday"}, operator
        )
        assert kept.status_code == 201, kept.text
        assert (await dispose("D-0", {"code": "paid"}, operator)).status_code == 409  # one per attempt
        assert (
            await hopper.finish(planned["D-0"], Outcome.ANSWERED, talk + timedelta(minutes=2)) == "call-back"
        )
        # after the end: at once
        assert (
            await hopper.finish(planned["D-1"], Outcome.ANSWERED, talk + timedelta(minutes=2)) == "answered"
        )
        promise = {"code": "promise-to-pay", "amount": "1500.00", "promised_for": "2026-12-15"}
        assert (await dispose("D-1", {"code": "promise-to-pay"}, operator)).status_code == 422  # no amount
        assert (await dispose("D-1", {"code": "bribe"}, operator)).status_code == 422
        past = {"code": "call-back", "callback_at": "2020-01-01T10:00:00+03:00"}
        assert (await dispose("D-1", past, operator)).status_code == 422
        assert (await dispose("D-1", promise, operator)).status_code == 201
        await hopper.finish(planned["D-2"], Outcome.ANSWERED, talk + timedelta(minutes=2))
        assert (await dispose("D-2", {"code": "do-not-call"}, boss)).status_code == 201  # a supervisor may
        assert (await dispose("D-3", {"code": "paid"}, boss)).status_code == 409  # never answered

        found = {c["external_id"]: c for c in (await http.get(
            "/api/v1/campaigns/debtors/contacts", headers=boss)).json()}  # fmt: skip
        assert (found["D-0"]["state"], found["D-0"]["next_at"][:10]) == ("pending", soon[:10])
        assert (found["D-1"]["state"], found["D-1"]["outcome"]) == ("done", "promise-to-pay")
        assert (found["D-2"]["state"], found["D-2"]["outcome"]) == ("done", "do-not-call")
        listed = (await http.get("/api/v1/dnc", headers=boss)).json()
        assert [(e["number"], e["campaign_id"]) for e in listed] == [("+74951234602", "")]
        log = {a["external_id"]: a for a in (await http.get(
            "/api/v1/campaigns/debtors/attempts", headers=boss)).json()}  # fmt: skip
        assert log["D-1"]["disposition"] == "promise-to-pay" and log["D-3"]["disposition"] is None


async def test_a_call_back_promised_by_an_agent_is_theirs_until_a_quarter_hour_past_its_time(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    boss = token_issuer.bearer("dialer.#", subject="supervisor1")
    operator = token_issuer.bearer("dialer.agents.{agent_id}.#", subject="operator1", agent_id="agent-1")
    async with dialer(private_nats.url, postgres_database) as (http, hopper):
        assert (await http.post("/api/v1/campaigns", json=campaign(), headers=boss)).status_code == 201
        person = [debtor("CB-1", "+74951234700", "Europe/Moscow")]
        assert (
            await http.post("/api/v1/campaigns/debtors/contacts", json=person, headers=boss)
        ).status_code == 200
        await http.post("/api/v1/campaigns/debtors/state", json={"action": "start"}, headers=boss)
        (first,) = await hopper.take("debtors", 1, MONDAY_TEN_MSK)
        talk = MONDAY_TEN_MSK + timedelta(seconds=15)
        await hopper.answered(first["id"], talk)
        await hopper.connected(first["id"], "agent-1", talk)
        await hopper.finish(first["id"], Outcome.ANSWERED, talk + timedelta(minutes=2))
        at = datetime.now(UTC) + timedelta(days=1)
        body = {"code": "call-back", "callback_at": at.isoformat(), "same_agent": True}
        disposed = await http.post(f"/api/v1/attempts/{first['id']}/disposition", json=body, headers=operator)
        assert disposed.status_code == 201 and disposed.json()["callback_agent_id"] == "agent-1"

        due = at + timedelta(minutes=1)
        assert await hopper.take("debtors", 5, due) == []  # not for whoever is free
        assert await hopper.take("debtors", 5, due, "agent-2") == []  # nor another agent's preview
        (theirs,) = await hopper.take("debtors", 1, due, "agent-1", callbacks=True)
        log = {
            a["id"]: a for a in (await http.get("/api/v1/campaigns/debtors/attempts", headers=boss)).json()
        }
        assert (log[theirs["id"]]["state"], log[theirs["id"]]["agent_id"]) == ("planned", "agent-1")
        await hopper.finish(theirs["id"], Outcome.SKIPPED, due)  # their phone did not answer

        late = at + timedelta(minutes=20)  # a quarter of an hour past its time: anyone's
        (anyones,) = await hopper.take("debtors", 5, late)
        assert anyones["external_id"] == "CB-1"
