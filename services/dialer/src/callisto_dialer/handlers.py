"""The dialer's bus commands: which campaigns there are and how far each has come."""

from __future__ import annotations

from callisto_dialer.store import DialerStore
from callisto_protocol import Envelope
from callisto_protocol.dialer import CampaignList, CampaignSummary, ListCampaigns
from callisto_runtime import Service


async def serve_commands(service: Service, store: DialerStore) -> None:
    async def list_campaigns(command: ListCampaigns, _: Envelope) -> CampaignList:
        rows = await store.campaigns(command.finished)
        return CampaignList(
            campaigns=[
                CampaignSummary(
                    campaign_id=r["id"], name=r["name"], state=r["state"], mode=r["mode"],
                    queue_id=r["queue_id"], contacts=r["contacts"], remaining=r["remaining"],
                    updated_at=r["updated_at"],
                )
                for r in rows
            ]
        )  # fmt: skip

    await service.bus.serve(ListCampaigns, list_campaigns, permission="dialer.campaigns.read")
