"""What an agent records of a conversation with a contact, and what it does to the contact:

- ``promise-to-pay`` (an amount and a date), ``paid``, ``wrong-person``, ``refused``, and any code of the
  campaign's own: the contact is finished with that outcome;
- ``call-back`` (a time; ``same_agent``): the contact is called again then (the policy's hours and caps
  still apply), by the agent who took this call when asked (their phone rung first, when they are
  ready; someone else's after 15 minutes past the time);
- ``do-not-call``: every number of the contact goes on the global do-not-call list, and it is finished.

A disposition may come before the call's end is known (the agent in wrap-up): it is kept and takes
effect when the attempt ends; after that, at once. One per attempt."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

CODE_PATTERN = r"^[a-z0-9-]{1,40}$"
PROMISE, CALL_BACK, DO_NOT_CALL = "promise-to-pay", "call-back", "do-not-call"


class DispositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=CODE_PATTERN, description="one of the campaign's dispositions")
    amount: Decimal | None = Field(default=None, gt=0, max_digits=14, decimal_places=2)
    promised_for: date | None = Field(default=None, description="promise-to-pay: when")
    callback_at: AwareDatetime | None = Field(default=None, description="call-back: when")
    same_agent: bool = Field(default=False, description="call-back: by the agent who took this call")
    note: str = Field(default="", max_length=2000)

    @model_validator(mode="after")
    def _complete(self) -> DispositionIn:
        if self.code == PROMISE and (self.amount is None or self.promised_for is None):
            raise ValueError("a promise to pay has an amount and a date")
        if self.code == CALL_BACK and self.callback_at is None:
            raise ValueError("a call-back has a time")
        if self.code != CALL_BACK and (self.callback_at is not None or self.same_agent):
            raise ValueError("callback_at and same_agent are for a call-back")
        return self


class Disposition(BaseModel):
    attempt_id: str
    code: str
    amount: Decimal | None
    promised_for: date | None
    callback_at: datetime | None
    callback_agent_id: str | None
    note: str
    by: str
    at: datetime
