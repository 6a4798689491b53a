"""Contacts against real PostgreSQL and NATS: the book over HTTP, the caller lookup over the bus,
refusals that leave nothing half-written, events."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from helpdesk_testing import helpdesk

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.servers import NatsServer
from callisto_protocol import Envelope
from callisto_protocol.contacts import ContactChanged, ContactMatch, LookupContact
from callisto_runtime import RemoteError

pytestmark = pytest.mark.integration


async def test_the_book_over_http_with_numbers_in_any_format(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    editor = token_issuer.bearer("helpdesk.contacts.#")
    reader = token_issuer.bearer("helpdesk.contacts.read")
    seen: list[ContactChanged] = []
    (tmp_path / "none.yaml").write_text("[]\n")
    async with helpdesk(private_nats.url, postgres_database, contacts_file=tmp_path / "none.yaml") as (
        http,
        service,
        _,
    ):

        async def keep(event: ContactChanged, _: Envelope) -> None:
            seen.append(event)

        await service.bus.subscribe(ContactChanged, keep)
        org = await http.post("/api/v1/contacts", json={"kind": "organisation", "name": "Water Works Ltd"},
                              headers=editor)  # fmt: skip
        assert org.status_code == 201, org.text
        body = {
            "name": "Vera <script>alert(1)</script> Vasquez",
            "organisation_id": org.json()["contact_id"],
            "phones": [{"number": "8 (912) 345-67-89", "label": "mobile"},
                       {"number": "+7 912 345 67 89"},  # the same number again: kept once
                       {"number": "+7 495 123-45-67 ext. 12", "label": "office"}],
            "emails": ["Vera@Example.org"], "vip": True, "personal_agent_id": "agent-1",
            "attributes": {"account": "100201", "address": "5 River Street"},
        }  # fmt: skip
        made = await http.post("/api/v1/contacts", json=body, headers=editor)
        assert made.status_code == 201, made.text
        vera = made.json()
        assert [(p["number"], p["extension"]) for p in vera["phones"]] == [
            ("+79123456789", None),
            ("+74951234567", "12"),
        ]
        assert vera["name"] == "Vera <script>alert(1)</script> Vasquez"  # stored as given, JSON-escaped
        assert vera["organisation"] == "Water Works Ltd"
        assert (await http.post("/api/v1/contacts", json=body, headers=reader)).status_code == 403
        for query in ("89123456789", "vera@example.org", "100201", "vera", "Water"):
            found = await http.get("/api/v1/contacts", params={"q": query}, headers=reader)
            assert found.status_code == 200, found.text
            names = [c["name"] for c in found.json()]
            assert vera["name"] in names or (query == "Water" and "Water Works Ltd" in names), (query, names)
        pop = await http.get(
            "/api/v1/contacts/lookup", params={"number": "+7 (912) 345-67-89"}, headers=reader
        )
        assert pop.json()["contact"]["contact_id"] == vera["contact_id"]
        assert pop.json()["contact"]["vip"] is True

        # refusals: nothing half-written
        taken = await http.post(
            "/api/v1/contacts",
            json={"name": "Someone", "phones": [{"number": "+7 916 000-00-01"}, {"number": "89123456789"}]},
            headers=editor,
        )
        assert taken.status_code == 409 and taken.json()["error_id"] == "number-taken"
        nobody = await http.get("/api/v1/contacts/lookup", params={"number": "+79160000001"}, headers=reader)
        assert nobody.json() == {"number": "+79160000001", "contact": None}
        invalid = await http.post("/api/v1/contacts", json={"name": "X", "phones": [{"number": "12"}]},
                                  headers=editor)  # fmt: skip
        assert invalid.status_code == 422 and invalid.json()["error_id"] == "invalid-phone-number"
        no_org = await http.post("/api/v1/contacts", json={"name": "X", "organisation_id": "nope"},
                                 headers=editor)  # fmt: skip
        assert no_org.status_code == 404
        assert (await http.get("/api/v1/contacts", params={"q": "Someone"}, headers=reader)).json() == []

        fewer = {**body, "phones": [{"number": "+7 916 555 00 00"}]}
        replaced = await http.put(f"/api/v1/contacts/{vera['contact_id']}", json=fewer, headers=editor)
        assert replaced.status_code == 200 and len(replaced.json()["phones"]) == 1
        old = await http.get("/api/v1/contacts/lookup", params={"number": "89123456789"}, headers=reader)
        assert old.json()["contact"] is None
        assert (
            await http.delete(f"/api/v1/contacts/{vera['contact_id']}", headers=editor)
        ).status_code == 204
        assert (await http.get(f"/api/v1/contacts/{vera['contact_id']}", headers=reader)).status_code == 404
        await asyncio.sleep(0.3)
    assert [e.change for e in seen] == ["created", "created", "updated", "deleted"]


async def test_the_caller_lookup_over_the_bus(
    private_nats: NatsServer, postgres_database: str, token_issuer: TestIssuer
) -> None:
    async with helpdesk(private_nats.url, postgres_database) as (_, service, book):
        assert await book.store.count() == 4  # the demo contacts
        token = token_issuer.token("helpdesk.contacts.read")
        started = time.perf_counter()
        match = await service.bus.call(LookupContact(number="8 912 345 67 89"), ContactMatch, token=token)
        assert time.perf_counter() - started < 5  # (speed is bench/helpdesk.py's business)
        assert match.number == "+79123456789"
        assert match.contact is not None and match.contact.name == "Vera Vasquez"
        assert (match.contact.vip, match.contact.personal_agent_id) == (True, "agent-1")
        assert match.contact.organisation == "City Hospital No. 2"
        anonymous = await service.bus.call(LookupContact(number="anonymous"), ContactMatch, token=token)
        assert anonymous == ContactMatch(number=None, contact=None)
        with pytest.raises(RemoteError) as refused:
            await service.bus.call(LookupContact(number="+79123456789"), ContactMatch,
                                   token=token_issuer.token("qm.#"))  # fmt: skip
        assert refused.value.error_id == "permission-denied"
