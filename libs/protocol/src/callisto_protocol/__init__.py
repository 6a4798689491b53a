"""callisto_protocol: every message that crosses the Callisto bus. No I/O.

Importing the package registers every message family, so ``message_class(type_name)`` finds any
declared message.
"""

from callisto_protocol import (
    agents,
    auth,
    calls,
    configuration,
    contacts,
    control,
    deadletters,
    dialer,
    help,
    lists,
    queues,
    recordings,
    registry,
    telephony,
    tickets,
)
from callisto_protocol.envelope import Envelope
from callisto_protocol.errors import (
    EnvelopeError,
    MessageDecodeError,
    ProtocolError,
    SubjectError,
    UnknownMessageType,
)
from callisto_protocol.ids import new_id
from callisto_protocol.messages import (
    Command,
    ErrorReply,
    Event,
    Message,
    Reply,
    all_message_classes,
    message_class,
)

__all__ = [
    "Command",
    "Envelope",
    "EnvelopeError",
    "ErrorReply",
    "Event",
    "Message",
    "MessageDecodeError",
    "ProtocolError",
    "Reply",
    "SubjectError",
    "UnknownMessageType",
    "agents",
    "all_message_classes",
    "auth",
    "calls",
    "configuration",
    "contacts",
    "control",
    "deadletters",
    "dialer",
    "help",
    "lists",
    "message_class",
    "new_id",
    "queues",
    "recordings",
    "registry",
    "telephony",
    "tickets",
]
