"""The configuration store through core-bus's control API, with a real owner on a real NATS: the
owner seeds its document, validates every change with the person's token, applies each new version
without a restart; a body it refuses is never written; If-Match, history, diff, rollback, export and
import; nothing is written while the owner does not answer."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from core_bus_testing import BEAT, core_bus, eventually
from pydantic import BaseModel, Field

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer
from callisto_runtime import Mode, Service, ServiceSettings


class Staff(BaseModel):
    teams: list[str] = Field(min_length=1)
    escalate_after_min: int = Field(default=30, ge=1)


@dataclass
class Owner:
    service: Service
    applied: list[tuple[Staff, int]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def owner(nats_url: str) -> AsyncIterator[Owner]:
    """helpdesk's place: it owns helpdesk.staff (seeded with one team)."""
    port = free_port()
    settings = ServiceSettings(
        nats_url=nats_url, http_port=port, heartbeat_interval_s=BEAT, mode=Mode.DEVELOPMENT
    )
    found = Owner(Service("helpdesk", "1.0", settings))

    async def apply(staff: Staff, version: int) -> None:
        found.applied.append((staff, version))

    found.service.configuration.own(
        "staff", Staff.model_validate, apply, lambda: {"teams": ["water"]},
        summary=lambda staff: f"{len(staff.teams)} teams",
    )  # fmt: skip
    async with serve_in_process(found.service.create_app(), port):
        await eventually(lambda: found.service.configuration.applied, what="the seeded version applied")
        yield found


async def known_to_core_bus(http: httpx.AsyncClient) -> None:
    """core-bus takes documents only for services its registry has seen."""

    async def seen() -> bool:
        return (await http.get("/api/v1/services/helpdesk")).status_code == 200

    await eventually(seen, what="helpdesk in the registry")


async def test_a_change_is_validated_by_its_owner_applied_without_a_restart_and_rolled_back(
    private_nats: NatsServer, token_issuer: TestIssuer
) -> None:
    async with owner(private_nats.url) as staff, core_bus(private_nats.url, token_issuer, "#") as (http, _):
        await known_to_core_bus(http)
        (seeded, first) = staff.applied[-1]
        assert seeded.teams == ["water"]
        listed = (await http.get("/api/v1/config")).json()
        assert [(d["document"], d["version"], d["by"]) for d in listed] == [
            ("helpdesk.staff", first, "service:helpdesk")
        ]

        refused = await http.put("/api/v1/config/helpdesk.staff", json={"body": {"teams": []}})
        assert refused.status_code == 422 and refused.json()["error_id"] == "invalid-config"
        assert "teams" in refused.json()["detail"]  # the owner's own reason
        assert (await http.get("/api/v1/config/helpdesk.staff")).json()["version"] == first  # nothing written

        asked = time.monotonic()
        change = {"body": {"teams": ["water", "it"], "escalate_after_min": 20}, "comment": "IT joins"}
        read_first = {"If-Match": f'"{first}"'}
        applied = await http.put("/api/v1/config/helpdesk.staff", json=change, headers=read_first)
        assert applied.status_code == 200, applied.text
        second = applied.json()["version"]
        assert second > first and applied.json()["comment"] == "IT joins"
        await eventually(lambda: staff.applied[-1][1] == second, 5, "the owner applies the new version")
        print(f"applied by the owner {time.monotonic() - asked:.3f} s after the request")
        assert staff.applied[-1][0].teams == ["water", "it"]

        stale = await http.put("/api/v1/config/helpdesk.staff", json=change, headers=read_first)
        assert stale.status_code == 412 and stale.json()["error_id"] == "version-mismatch"
        again = await http.put("/api/v1/config/helpdesk.staff", json=change)
        assert again.json()["version"] == second  # the same body: no new version

        diff = (await http.get(f"/api/v1/config/helpdesk.staff/diff?from={first}&to={second}")).json()["diff"]
        assert "+- it" in diff and "+escalate_after_min: 20" in diff
        history = (await http.get("/api/v1/config/helpdesk.staff/history")).json()
        assert [h["version"] for h in history] == [second, first]

        rolled = await http.post(f"/api/v1/config/helpdesk.staff/rollback?version={first}")
        assert rolled.status_code == 200 and rolled.json()["comment"] == f"rollback to version {first}"
        await eventually(lambda: staff.applied[-1][0].teams == ["water"], 5, "the rollback applied")
        old = (await http.get(f"/api/v1/config/helpdesk.staff?version={second}")).json()
        assert old["body"]["teams"] == ["water", "it"]  # older versions stay readable

        exported = (await http.get("/api/v1/config/export")).text
        assert "helpdesk.staff:" in exported and "- water" in exported
        bad = exported.replace("- water", "[]").replace("teams:\n  []", "teams: []")
        headers = {"Content-Type": "application/yaml"}
        refused_import = await http.post("/api/v1/config/import", content=bad, headers=headers)
        assert refused_import.status_code == 422, refused_import.text
        assert "helpdesk.staff" in refused_import.json()["details"]["refused"]
        imported = await http.post("/api/v1/config/import", content=exported.replace("- water", "- gas"),
                                   headers=headers)  # fmt: skip
        assert imported.status_code == 200
        assert [c["document"] for c in imported.json()["changed"]] == ["helpdesk.staff"]
        await eventually(lambda: staff.applied[-1][0].teams == ["gas"], 5, "the import applied")

    # without the owner nothing is written unvalidated
    async with core_bus(private_nats.url, token_issuer, "#") as (http, _):
        gone = await http.put("/api/v1/config/helpdesk.staff", json={"body": {"teams": ["x"]}})
        assert gone.status_code == 503 and gone.json()["error_id"] == "owner-unavailable"


async def test_a_person_without_the_permission_is_refused_by_the_owner(
    private_nats: NatsServer, token_issuer: TestIssuer
) -> None:
    granted = ("core-bus.config.#", "core-bus.services.read")  # not config.write, which the owner wants
    async with owner(private_nats.url), core_bus(private_nats.url, token_issuer, *granted) as (http, _):
        await known_to_core_bus(http)
        refused = await http.put("/api/v1/config/helpdesk.staff", json={"body": {"teams": ["it"]}})
        assert refused.status_code == 422 and refused.json()["error_id"] == "invalid-config"
        assert "config.write" in refused.json()["detail"]
        body: dict[str, Any] = (await http.get("/api/v1/config/helpdesk.staff")).json()["body"]
        assert body == {"teams": ["water"]}

