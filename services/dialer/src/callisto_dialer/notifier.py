"""The only place the dialer publishes from: a campaign's state changed."""

from __future__ import annotations

from callisto_protocol.dialer import CampaignState, CampaignStateChanged
from callisto_runtime import Bus


class Notifier:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus

    async def campaign_state(
        self, campaign_id: str, state: CampaignState, previous: CampaignState | None, by: str, reason: str
    ) -> None:
        await self.bus.publish(
            CampaignStateChanged(
                campaign_id=campaign_id,
                state=state,
                previous=previous,
                by=by[:200] or "system",
                reason=reason,
            )
        )
