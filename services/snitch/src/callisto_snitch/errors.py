"""snitch errors.

SnitchError (CallistoError)
├── UnknownQueue      404 no queue of that id has been seen or configured
├── UnknownLine       404
├── UnknownAgent      404
├── WrongWallboardKey 403 the wallboard wants its key
├── InvalidRange      422 a report range that is empty, reversed, too long for its interval or far off
└── InvalidDefinitions 422 a KPI definitions file that does not parse or contradicts itself
"""

from __future__ import annotations

from callisto_runtime import CallistoError


class SnitchError(CallistoError):
    error_id = "snitch-error"


class UnknownQueue(SnitchError):
    status = 404
    error_id = "unknown-queue"


class UnknownLine(SnitchError):
    status = 404
    error_id = "unknown-line"


class UnknownAgent(SnitchError):
    status = 404
    error_id = "unknown-agent"


class WrongWallboardKey(SnitchError):
    status = 403
    error_id = "wrong-wallboard-key"


class InvalidRange(SnitchError):
    status = 422
    error_id = "invalid-range"


class InvalidDefinitions(SnitchError):
    status = 422
    error_id = "invalid-definitions"
