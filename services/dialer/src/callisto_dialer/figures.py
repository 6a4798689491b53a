"""A campaign's live figures (``CampaignFigures``): made by the active instance every few seconds for
the bus, and by any instance for the API (each follows the agents; the rest is in PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from callisto_dialer.floor import Floors
from callisto_dialer.hopper import Hopper
from callisto_dialer.policies import POLICIES
from callisto_protocol.dialer import CampaignFigures


async def figures_of(
    campaign: dict[str, Any], hopper: Hopper, floors: Floors, now: datetime
) -> CampaignFigures:
    policy = POLICIES[campaign["policy"]]
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    dialled, answered, abandoned = await hopper.counts(campaign["id"], midnight)
    _, window_answered, window_abandoned = await hopper.counts(
        campaign["id"], now - timedelta(hours=policy.abandon_window_h)
    )
    flying = await hopper.in_flight(campaign["id"])
    ringing = sum(1 for a in flying if a["dialled_at"] is not None and a["answered_at"] is None)
    waiting = sum(1 for a in flying if a["answered_at"] is not None and a["connected_at"] is None)
    team = floors.team(campaign["queue_id"], now)
    agents = team.ready + len(team.talking) + len(team.wrapping)
    return CampaignFigures(
        campaign_id=campaign["id"], at=now, dialled=dialled, answered=answered, abandoned=abandoned,
        abandon_rate=round(window_abandoned / window_answered, 4) if window_answered else None,
        abandon_limit=policy.abandon_limit, ringing=ringing, waiting=waiting, agents=agents, ready=team.ready,
        dial_level=round(ringing / agents, 2) if agents else 0.0, remaining=campaign["remaining"],
    )  # fmt: skip
