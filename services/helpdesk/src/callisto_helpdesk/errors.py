"""helpdesk errors.

HelpdeskError (CallistoError)
├── UnknownContact       404
├── InvalidPhoneNumber   422 not a possible phone number in any reading
├── NumberTaken          409 the number belongs to another contact
├── IllegalTransition    409 the ticket's state does not allow the action
├── UnknownTicket        404
├── UnknownCategory      422 no such (active) category
├── UnknownCallCard      404
├── NoNumberToCall       409 the ticket's contact has no number
├── UnknownPolicy        404
├── UnknownCalendar      422
├── PolicyClash          409 another policy has the same category and priority
├── AttachmentTooLarge   413
├── UnknownAttachment    404
├── BadConfirmation      404 no such ticket awaiting confirmation, or a wrong token
├── MalformedAlert       422 not an Alertmanager webhook payload
└── UnknownStaff         404
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


class UnknownPolicy(HelpdeskError):
    status = 404
    error_id = "unknown-sla-policy"


class UnknownCalendar(HelpdeskError):
    status = 422
    error_id = "unknown-calendar"


class PolicyClash(HelpdeskError):
    status = 409
    error_id = "policy-clash"


class AttachmentTooLarge(HelpdeskError):
    status = 413
    error_id = "attachment-too-large"


class UnknownAttachment(HelpdeskError):
    status = 404
    error_id = "unknown-attachment"


class BadConfirmation(HelpdeskError):
    status = 404
    error_id = "bad-confirmation"


class MalformedAlert(HelpdeskError):
    status = 422
    error_id = "malformed-alert"


class UnknownStaff(HelpdeskError):
    status = 404
    error_id = "unknown-staff"
