"""dialer errors.

DialerError (CallistoError)
├── UnknownCampaign    404
├── CampaignExists     409 a campaign of that id is there already
├── IllegalTransition  409 the campaign's state does not allow the action (the allowed ones named)
├── CampaignLocked     409 a finished campaign's list or settings cannot change any more
├── InvalidList        422 an import with bad rows: every row's errors, nothing written
└── ListTooLarge       413 an import over the size or row limit, refused before it is read whole
"""

from __future__ import annotations

from callisto_runtime import CallistoError


class DialerError(CallistoError):
    error_id = "dialer-error"


class UnknownCampaign(DialerError):
    status = 404
    error_id = "unknown-campaign"


class CampaignExists(DialerError):
    status = 409
    error_id = "campaign-exists"


class IllegalTransition(DialerError):
    status = 409
    error_id = "illegal-transition"


class CampaignLocked(DialerError):
    status = 409
    error_id = "campaign-locked"


class InvalidList(DialerError):
    status = 422
    error_id = "invalid-list"


class ListTooLarge(DialerError):
    status = 413
    error_id = "list-too-large"
