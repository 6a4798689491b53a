"""Which answered calls are recorded: the dial plan's ``recording`` section.

    recording:
      default: always                      # always | never
      rules:                               # the first rule that fits a call decides
        - {queues: [emergencies], mode: always}
        - {campaigns: [survey-2026], mode: never}
        - {directions: [outbound], mode: sample, share: 0.2}

A rule fits when each list it names holds the call's queue, campaign or direction (a list not named
fits any call). ``sample`` records the share of calls whose id falls below it (a hash: every
instance, and a standby taking over, decides alike). The decision is made once, at the call's first
answer; a person's start, stop, pause and resume come after it."""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from callisto_protocol.calls import CallDirection

Mode = Literal["always", "never", "sample"]


class RecordingRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode
    share: float = Field(default=1.0, ge=0, le=1, description="of calls recorded (mode sample)")
    queues: list[str] = []
    campaigns: list[str] = []
    directions: list[CallDirection] = []

    def fits(self, queue_id: str | None, campaign: str | None, direction: CallDirection) -> bool:
        return (
            (not self.queues or queue_id in self.queues)
            and (not self.campaigns or campaign in self.campaigns)
            and (not self.directions or direction in self.directions)
        )

    def records(self, call_id: str) -> bool:
        if self.mode != "sample":
            return self.mode == "always"
        return sampled(call_id) < self.share


class RecordingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    default: Literal["always", "never"] = "never"
    rules: list[RecordingRule] = []

    def records(
        self, call_id: str, queue_id: str | None, campaign: str | None, direction: CallDirection
    ) -> bool:
        rule = next((r for r in self.rules if r.fits(queue_id, campaign, direction)), None)
        return rule.records(call_id) if rule is not None else self.default == "always"


def sampled(call_id: str) -> float:
    """Where a call falls in [0, 1): the same for every instance."""
    return int.from_bytes(hashlib.sha256(call_id.encode()).digest()[:8], "big") / 2**64
