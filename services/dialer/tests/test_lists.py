"""Contact lists pushed over REST on real PostgreSQL: JSON and CSV, numbers in E.164 and time zones
from them, idempotent by external id (a second push updates, attempts kept), removals; a list with bad
rows refused whole with every row's errors, junk and oversized bodies refused, nothing written; the
do-not-call lists."""

from __future__ import annotations

import os
import random
import string
from typing import Any

import httpx
import pytest
from dialer_testing import campaign, dialer

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.servers import NatsServer

pytestmark = pytest.mark.integration
LIST = "/api/v1/campaigns/debtors/contacts"


def debtor(external_id: str, *numbers: str, **more: Any) -> dict[str, Any]:
    return {"external_id": external_id, "name": f"Debtor {external_id}", "numbers": list(numbers), **more}


async def all_contacts(http: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    found = (await http.get(LIST, params={"limit": 1000}, headers=headers)).json()
    return {c["external_id"]: c for c in found}


async def test_lists_are_imported_updated_and_removed_by_external_id(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    billing = token_issuer.bearer("dialer.lists.#", subject="svc-billing")
    reader = token_issuer.bearer("dialer.campaigns.read")
    supervisor = token_issuer.bearer("dialer.#")
    async with dialer(private_nats.url, postgres_database) as (http, _):
        assert (await http.post("/api/v1/campaigns", json=campaign(), headers=supervisor)).status_code == 201
        first = [
            debtor("A-1", "8 (495) 123-45-67", amount_owed="1520.50", due_date="2026-11-30",
                   attributes={"account": "40817-001", "district": "North"}),
            debtor("A-2", "+7 912 345-67-89", "84232123456"),  # a mobile (many zones) and a Vladivostok line
            debtor("A-3", "+79841234567", time_zone="Asia/Vladivostok"),
        ]  # fmt: skip
        assert (await http.post(LIST, json=first, headers=reader)).status_code == 403
        report = await http.post(LIST, json=first, headers=billing)
        assert report.status_code == 200, report.text
        assert report.json() == {"rows": 3, "added": 3, "updated": 0, "removed": 0, "on_dnc": 0}
        found = await all_contacts(http, reader)
        assert found["A-1"]["numbers"] == ["+74951234567"] and found["A-1"]["zones"] == ["Europe/Moscow"]
        assert found["A-1"]["amount_owed"] == "1520.50" and found["A-1"]["attributes"]["district"] == "North"
        assert found["A-2"]["numbers"] == ["+79123456789", "+74232123456"]  # the order is the priority
        assert "Asia/Vladivostok" in found["A-2"]["zones"] and "Europe/Moscow" in found["A-2"]["zones"]
        assert found["A-3"]["zones"] == ["Asia/Vladivostok"]  # given: wins over the number's many
        assert {c["state"] for c in found.values()} == {"pending"}

        # the same list again changes nothing; a changed amount is an update; a removal row
        again = await http.post(LIST, json=first, headers=billing)
        assert again.json() == {"rows": 3, "added": 0, "updated": 3, "removed": 0, "on_dnc": 0}
        second = [debtor("A-1", "+74951234567", amount_owed="99.00"), {"external_id": "A-3", "remove": True}]
        assert (await http.post(LIST, json=second, headers=billing)).json() == {
            "rows": 2, "added": 0, "updated": 1, "removed": 1, "on_dnc": 0,
        }  # fmt: skip
        found = await all_contacts(http, reader)
        assert found["A-1"]["amount_owed"] == "99.00" and found["A-3"]["state"] == "removed"
        assert (await http.delete(f"{LIST}/A-2", headers=billing)).status_code == 204
        assert (await http.delete(f"{LIST}/A-2", headers=billing)).status_code == 404
        campaign_row = (await http.get("/api/v1/campaigns/debtors", headers=reader)).json()
        assert (campaign_row["contacts"], campaign_row["remaining"]) == (1, 1)

        # CSV: phone columns in order, the other columns become the card's attributes
        csv = (
            "external_id,name,phone1,phone2,time_zone,amount_owed,contract\n"
            "B-1,Ivan Petrov,+74951234567,+79123456789,Europe/Moscow,300.00,C-77\n"
            "B-2,Olga Sidorova,84232123456,,,,C-78\n"
        )
        imported = await http.post(LIST, content=csv, headers={**billing, "Content-Type": "text/csv"})
        assert imported.json()["added"] == 2, imported.text
        found = await all_contacts(http, reader)
        assert found["B-1"]["numbers"] == ["+74951234567", "+79123456789"]
        assert found["B-1"]["attributes"] == {"contract": "C-77"} and found["B-1"]["zones"] == [
            "Europe/Moscow"
        ]
        assert found["B-2"]["zones"] == ["Asia/Vladivostok"]

        # do not call: a number on the global list or the campaign's is reported, and kept off the dialler
        dnc = await http.put(
            "/api/v1/dnc/+74232123456", json={"reason": "asked on 2026-12-01"}, headers=supervisor
        )
        assert dnc.status_code == 200 and dnc.json()["campaign_id"] == ""
        own = await http.put(
            "/api/v1/dnc/+74951234567", params={"campaign_id": "debtors"}, json={}, headers=supervisor
        )
        assert own.status_code == 200
        assert (await http.put("/api/v1/dnc/+74951234567", params={"campaign_id": "nope"}, json={},
                               headers=supervisor)).status_code == 404  # fmt: skip
        assert (await http.post(LIST, json=first[:2], headers=billing)).json()["on_dnc"] == 2
        listed = (await http.get("/api/v1/dnc", headers=reader)).json()
        assert {(e["number"], e["campaign_id"]) for e in listed} == {
            ("+74232123456", ""), ("+74951234567", "debtors"),
        }  # fmt: skip
        assert (await http.delete("/api/v1/dnc/+74232123456", headers=supervisor)).status_code == 204
        assert (await http.delete("/api/v1/dnc/+74232123456", headers=supervisor)).status_code == 404


async def test_bad_lists_are_refused_whole_with_every_rows_errors(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    billing = token_issuer.bearer("dialer.lists.#")
    reader = token_issuer.bearer("dialer.campaigns.read")
    async with dialer(private_nats.url, postgres_database, max_body_bytes=11 * 1024 * 1024) as (http, _):
        created = await http.post(
            "/api/v1/campaigns", json=campaign(), headers=token_issuer.bearer("dialer.#")
        )
        assert created.status_code == 201
        bad = [
            debtor("C-1", "+74951234567"),  # fine, and still not written
            debtor("C-2", "12345"),
            debtor("C-3", "+74951234567", time_zone="Mars/Olympus"),
            debtor("C-1", "+74951234568"),
            debtor("C-4"),
            {"external_id": "C 5", "numbers": ["+74951234567"], "colour": "red"},
        ]
        refused = await http.post(LIST, json=bad, headers=billing)
        assert refused.status_code == 422 and refused.json()["error_id"] == "invalid-list"
        errors = {(e["row"], e["field"]) for e in refused.json()["details"]["errors"]}
        assert errors == {
            (2, "numbers.0"), (3, "time_zone"), (4, "external_id"), (5, "numbers"), (6, "external_id"),
            (6, "colour"),
        }, refused.json()  # fmt: skip
        assert await all_contacts(http, reader) == {}

        binary = os.urandom(10 * 1024 * 1024)
        as_json = await http.post(
            LIST, content=binary, headers={**billing, "Content-Type": "application/json"}
        )
        assert as_json.json()["error_id"] == "control-character"  # refused at the door
        untyped = await http.post(LIST, content=binary, headers=billing)
        assert untyped.status_code == 422 and "not UTF-8" in untyped.json()["detail"]
        junk = "".join(random.Random(5).choices(string.printable[:-5], k=10 * 1024 * 1024))  # text, no list
        for kind in ("application/json", "text/csv"):
            reply = await http.post(LIST, content=junk, headers={**billing, "Content-Type": kind})
            assert reply.status_code == 422 and reply.json()["error_id"] == "invalid-list", reply.text[:300]
            assert reply.json()["details"]["errors"][0]["row"] == 0
        not_a_list = await http.post(LIST, json={"external_id": "D-1"}, headers=billing)
        assert not_a_list.status_code == 422
        headless = await http.post(
            LIST, content="D-1,+74951234567\n", headers={**billing, "Content-Type": "text/csv"}
        )
        assert headless.status_code == 422 and "header" in headless.json()["detail"]
        too_big = await http.post(LIST, content=b"[" + b" " * (12 * 1024 * 1024) + b"]", headers=billing)
        assert too_big.status_code == 413 and too_big.json()["error_id"] == "body-too-large"
        assert await all_contacts(http, reader) == {}
        assert (
            await http.post("/api/v1/campaigns/nope/contacts", json=[], headers=billing)
        ).status_code == 404
