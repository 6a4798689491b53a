"""What people do with campaigns, whichever door they come through (HTTP, the bus): create, change the
settings, act on the state, import and remove contacts. Checks what a campaign's state allows, then
the store writes and the notifier tells."""

from __future__ import annotations

from typing import Any

from callisto_dialer.campaigns import FINISHED, Action, CampaignIn, CampaignNew, allowed_actions
from callisto_dialer.contact_list import Contact
from callisto_dialer.errors import CampaignLocked, IllegalTransition
from callisto_dialer.notifier import Notifier
from callisto_dialer.store import DialerStore
from callisto_protocol.dialer import CampaignState


def list_open(state: str) -> None:
    """A finished campaign's list stays as it ended (its report is made from it)."""
    if CampaignState(state) in FINISHED:
        raise CampaignLocked(f"the campaign is {state}: its list no longer changes", {"state": state})


def settings_open(state: str) -> None:
    """Settings change while nothing is dialled: a running campaign is paused first."""
    list_open(state)
    if CampaignState(state) is CampaignState.RUNNING:
        raise IllegalTransition("a running campaign's settings change once it is paused", {"state": state})


class CampaignDesk:
    def __init__(self, store: DialerStore, notifier: Notifier) -> None:
        self.store = store
        self.notifier = notifier

    async def create(self, body: CampaignNew, by: str) -> dict[str, Any]:
        return shown(await self.store.create(body, by))

    async def change(self, campaign_id: str, body: CampaignIn, by: str) -> dict[str, Any]:
        new = CampaignNew(id=campaign_id, **body.model_dump())
        return shown(await self.store.update(new, settings_open))

    async def act(self, campaign_id: str, action: Action, by: str, reason: str) -> dict[str, Any]:
        previous, state = await self.store.change_state(campaign_id, action, by, reason)
        await self.notifier.campaign_state(campaign_id, state, previous, by, reason)
        return shown(await self.store.campaign(campaign_id))

    async def import_contacts(
        self, campaign_id: str, contacts: list[Contact], by: str, form: str
    ) -> dict[str, int]:
        return await self.store.import_contacts(campaign_id, contacts, by, form, list_open)

    async def remove_contact(self, campaign_id: str, external_id: str) -> bool:
        return await self.store.remove_contact(campaign_id, external_id, list_open)


def shown(row: dict[str, Any]) -> dict[str, Any]:
    """A campaign row as the API shows it: with what may be done with it now."""
    return {**row, "actions": allowed_actions(CampaignState(row["state"]))}
