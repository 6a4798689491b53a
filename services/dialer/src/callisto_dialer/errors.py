"""dialer errors.

DialerError (CallistoError)
├── UnknownCampaign    404
├── UnknownAttempt     404
├── CampaignExists     409 a campaign of that id is there already
├── IllegalTransition  409 the campaign's state does not allow the action (the allowed ones named)
├── CampaignLocked     409 a finished campaign's list or settings cannot change any more
├── NotReached         409 a disposition for an attempt whose customer never answered
├── DispositionExists  409 the attempt has its disposition already
├── NotOffered         409 a preview decision for an attempt that is not (or no longer) offered
├── UnknownDisposition 422 a code the campaign does not have, or a call-back in the past
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


class UnknownAttempt(DialerError):
    status = 404
    error_id = "unknown-attempt"


class NotReached(DialerError):
    status = 409
    error_id = "not-reached"


class NotOffered(DialerError):
    status = 409
    error_id = "not-offered"


class DispositionExists(DialerError):
    status = 409
    error_id = "disposition-exists"


class UnknownDisposition(DialerError):
    status = 422
    error_id = "unknown-disposition"


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
