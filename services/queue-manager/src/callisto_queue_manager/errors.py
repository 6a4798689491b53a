"""queue-manager errors.

QueueManagerError (CallistoError)
├── UnknownQueue       404
├── UnknownAgent       404
├── UnknownCall        404
├── InvalidTransition  409 the agent's or the call's state does not allow the request
├── CallAlreadyQueued  409 the call waits in another queue
├── QueueInUse         409 a queue with calls cannot be removed
├── InvalidCallback    422 the callback's window is over or ends before it starts
├── OverflowCycle      422 the overflow targets would lead a caller back to a queue already left
├── QueuesInconsistent 409 the change leaves a queue overflowing to a queue that is not there
├── UnknownCode        422 a not-ready reason or a disposition that is not on the list
├── UnknownHelpRequest 404 no open or accepted help request of that id
├── HelpTaken          409 another supervisor accepted the help request first
└── QueueRefused       503 the caller cannot join now; details name the overflow target
    ├── QueueClosed    outside business hours
    ├── QueueFull      the maximum length is reached
    └── QueueEmpty     no agent logged in, and the queue does not take callers then
"""

from __future__ import annotations

from callisto_runtime import CallistoError


class QueueManagerError(CallistoError):
    error_id = "queue-manager-error"


class UnknownQueue(QueueManagerError):
    status = 404
    error_id = "unknown-queue"


class UnknownAgent(QueueManagerError):
    status = 404
    error_id = "unknown-agent"


class UnknownCall(QueueManagerError):
    status = 404
    error_id = "unknown-call"


class InvalidTransition(QueueManagerError):
    status = 409
    error_id = "invalid-transition"


class CallAlreadyQueued(QueueManagerError):
    status = 409
    error_id = "call-already-queued"


class QueueInUse(QueueManagerError):
    status = 409
    error_id = "queue-in-use"


class UnknownCode(QueueManagerError):
    status = 422
    error_id = "unknown-code"


class InvalidCallback(QueueManagerError):
    status = 422
    error_id = "invalid-callback"


class OverflowCycle(QueueManagerError):
    status = 422
    error_id = "overflow-cycle"


class UnknownHelpRequest(QueueManagerError):
    status = 404
    error_id = "unknown-help-request"


class HelpTaken(QueueManagerError):
    status = 409
    error_id = "help-taken"


class QueueRefused(QueueManagerError):
    status = 503
    error_id = "queue-refused"


class QueueClosed(QueueRefused):
    error_id = "queue-closed"


class QueueFull(QueueRefused):
    error_id = "queue-full"


class QueueEmpty(QueueRefused):
    error_id = "queue-empty"


class QueuesInconsistent(QueueManagerError):
    status = 409
    error_id = "queues-inconsistent"
