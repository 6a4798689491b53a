"""JetStream streams and key-value buckets the whole suite agrees on."""

from __future__ import annotations

EVENTS_STREAM = "CC_EVENTS"
EVENTS_STREAM_SUBJECTS = (
    "cc.call.>",
    "cc.agent.>",
    "cc.queue.>",
    "cc.ticket.>",
    "cc.recording.>",
    "cc.dialer.>",
    "cc.auth.>",
)
# A message id seen again inside this window is dropped by the server: replays after a reconnect
# are safe.
EVENTS_DUPLICATE_WINDOW_S = 120.0

# Events that durable consumers gave up on (``cc.dead.<service>.<consumer>``), kept for replay.
DEAD_LETTERS_STREAM = "CC_DEAD_LETTERS"
DEAD_LETTERS_SUBJECTS = ("cc.dead.>",)
DEAD_LETTERS_MAX_AGE_S = 30 * 24 * 3600.0

REGISTRY_BUCKET = "cc_registry"
LEASES_BUCKET = "cc_leases"


def is_stream_subject(subject: str) -> bool:
    """True when ``subject`` is kept by ``CC_EVENTS`` (published with acknowledgement)."""
    return any(subject.startswith(pattern[:-1]) for pattern in EVENTS_STREAM_SUBJECTS)
