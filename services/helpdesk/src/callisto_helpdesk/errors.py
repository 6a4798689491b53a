"""helpdesk errors.

HelpdeskError (CallistoError)
├── UnknownContact       404
├── InvalidPhoneNumber   422 not a possible phone number in any reading
├── NumberTaken          409 the number belongs to another contact
├── IllegalTransition    409 the ticket's state does not allow the action
├── UnknownTicket        404
├── UnknownCategory      422 no such (active) category
├── UnknownCallCard      404
└── NoNumberToCall       409 the ticket's contact has no number
"""

from __future__ import annotations

from callisto_runtime import CallistoError


class HelpdeskError(CallistoError):
    error_id = "helpdesk-error"


class UnknownContact(HelpdeskError):
    status = 404
    error_id = "unknown-contact"


class InvalidPhoneNumber(HelpdeskError):
    status = 422
    error_id = "invalid-phone-number"


class NumberTaken(HelpdeskError):
    status = 409
    error_id = "number-taken"


class IllegalTransition(HelpdeskError):
    status = 409
    error_id = "illegal-transition"


class UnknownTicket(HelpdeskError):
    status = 404
    error_id = "unknown-ticket"


class UnknownCategory(HelpdeskError):
    status = 422
    error_id = "unknown-category"


class UnknownCallCard(HelpdeskError):
    status = 404
    error_id = "unknown-call-card"


class NoNumberToCall(HelpdeskError):
    status = 409
    error_id = "no-number-to-call"
