"""/api/v1/sla and /api/v1/staff: SLA policies and calendars (edited at run time; tickets under a
changed policy are measured again at once) and the staff notifications go to."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field, field_validator

from callisto_helpdesk.api.views import Policy, SlaOverview, StaffMember
from callisto_helpdesk.sla import calendar_from_spec
from callisto_helpdesk.sla_policies import POLICY_ID, PolicyIn, PolicyStore
from callisto_helpdesk.staff import STAFF_ID, StaffDirectory, StaffIn
from callisto_protocol.ids import TimeZoneName
from callisto_runtime import Service
from callisto_runtime.problems import responses
from callisto_runtime.tokens import Claims

WINDOW = r"^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"


class CalendarIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: TimeZoneName
    weekly: dict[int, list[tuple[str, str]]] = Field(description="weekday (0 Monday) -> [[from, to], ...]")
    holidays: list[date] = Field(default=[], max_length=400)

    @field_validator("weekly")
    @classmethod
    def _windows(cls, weekly: dict[int, list[tuple[str, str]]]) -> dict[int, list[tuple[str, str]]]:
        for day, windows in weekly.items():
            if not 0 <= day <= 6:
                raise ValueError(f"weekday {day} is not 0 (Monday) .. 6")
            for start, end in windows:
                if not (re.match(WINDOW, start) and re.match(WINDOW, end)) or start >= end:
                    raise ValueError(f"{start}-{end} is not a window of the day")
        return weekly

    def spec(self) -> dict[str, Any]:
        spec = self.model_dump(mode="json")
        calendar_from_spec(spec)
        return spec


def router(service: Service, policies: PolicyStore, staff: StaffDirectory) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["sla"])
    may_read = service.require("helpdesk.tickets.read")
    may_edit_sla = service.require("helpdesk.sla.update")
    may_edit_staff = service.require("helpdesk.staff.update")

    @api.get("/sla", summary="Calendars and policies (by category and priority)")
    async def show(claims: Claims = may_read) -> SlaOverview:
        return SlaOverview.model_validate(await policies.overview())

    @api.put("/sla/policies/{policy_id}", summary="Add or change a policy", responses=responses(409))
    async def put_policy(
        policy_id: Annotated[str, Path(pattern=POLICY_ID)], body: PolicyIn, claims: Claims = may_edit_sla
    ) -> Policy:
        return Policy.model_validate(await policies.put(policy_id, body))

    @api.delete("/sla/policies/{policy_id}", status_code=204, summary="Remove a policy")
    async def delete_policy(
        policy_id: Annotated[str, Path(pattern=POLICY_ID)], claims: Claims = may_edit_sla
    ) -> None:
        await policies.delete(policy_id)

    @api.put("/sla/calendars/{name}", status_code=204, summary="Add or change a business calendar")
    async def put_calendar(
        name: Annotated[str, Path(pattern=POLICY_ID)], body: CalendarIn, claims: Claims = may_edit_sla
    ) -> None:
        await policies.put_calendar(name, body.spec())

    @api.get("/staff", summary="Staff notifications go to")
    async def list_staff(claims: Claims = may_read) -> list[StaffMember]:
        return [StaffMember.model_validate(row) for row in await staff.everyone()]

    @api.put("/staff/{staff_id}", summary="Add or change a staff member (address, manager, management)")
    async def put_staff(
        staff_id: Annotated[str, Path(pattern=STAFF_ID)], body: StaffIn, claims: Claims = may_edit_staff
    ) -> StaffMember:
        return StaffMember.model_validate(await staff.put(staff_id, body))

    @api.delete("/staff/{staff_id}", status_code=204)
    async def delete_staff(
        staff_id: Annotated[str, Path(pattern=STAFF_ID)], claims: Claims = may_edit_staff
    ) -> None:
        await staff.delete(staff_id)

    return api
