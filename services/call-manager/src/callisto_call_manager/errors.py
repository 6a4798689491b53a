"""call-manager errors.

CallManagerError (CallistoError)
├── UnknownCall            404
├── AgentNotRegistered     409 the agent has no registered phone to ring
├── InvalidCallState       409 the call's state does not allow the command
├── CallExists             409 an originated call's id is taken by a live call
├── UnknownTransferTarget  404 no such agent, queue or number route
├── UnknownPrompt          422 a command names a prompt the dial plan does not have
├── ConsultUnderWay        409 the call's agent consults already
├── NoConsult              409 the call's agent does not consult (or the colleague has not answered)
├── ConsultFailed          502 the colleague's or the agent's phone did not take the consult
├── ConfigError            500 a trunk or IVR flow file is wrong (the service does not start)
├── NoRoomToRecord         507 the recording service has no room: new recordings are refused
└── MediaRelayError        502 rtpengine refused a command or answered nonsense
    └── MediaRelayUnavailable 503 rtpengine does not answer
"""

from __future__ import annotations

from callisto_runtime import CallistoError


class CallManagerError(CallistoError):
    error_id = "call-manager-error"


class UnknownCall(CallManagerError):
    status = 404
    error_id = "unknown-call"


class AgentNotRegistered(CallManagerError):
    status = 409
    error_id = "agent-not-registered"


class InvalidCallState(CallManagerError):
    status = 409
    error_id = "invalid-call-state"


class CallExists(CallManagerError):
    status = 409
    error_id = "call-exists"


class UnknownTransferTarget(CallManagerError):
    status = 404
    error_id = "unknown-transfer-target"


class UnknownPrompt(CallManagerError):
    status = 422
    error_id = "unknown-prompt"


class ConfigError(CallManagerError):
    status = 500
    error_id = "config-error"


class NoRoomToRecord(CallManagerError):
    status = 507
    error_id = "no-room-to-record"


class MediaRelayError(CallManagerError):
    status = 502
    error_id = "media-relay-error"


class MediaRelayUnavailable(MediaRelayError):
    status = 503
    error_id = "media-relay-unavailable"


class PhoneNotRegistered(CallManagerError):
    status = 409
    error_id = "phone-not-registered"


class ConsultUnderWay(CallManagerError):
    status = 409
    error_id = "consult-under-way"


class NoConsult(CallManagerError):
    status = 409
    error_id = "no-consult"


class ConsultFailed(CallManagerError):
    status = 502
    error_id = "consult-failed"


class ListenFailed(CallManagerError):
    status = 502
    error_id = "listen-failed"
