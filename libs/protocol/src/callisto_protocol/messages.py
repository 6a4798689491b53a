"""Base classes of every bus message.

A message class declares its stable type name (``message_type``) and its subject pattern
(``subject``, placeholders in braces naming fields of the message). Concrete classes register
themselves, so a receiver can decode any message from its envelope's type, and the AsyncAPI
catalogue is generated from the registry. Receivers ignore fields they do not know: messages
evolve by adding optional fields; a breaking change is a new ``message_type``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callisto_protocol.errors import MessageDecodeError, SubjectError, UnknownMessageType
from callisto_protocol.ids import is_token

_REGISTRY: dict[str, type[Message]] = {}
_PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")


class Message(BaseModel):
    """Any message on the bus."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    message_type: ClassVar[str]
    subject: ClassVar[str]
    deprecated: ClassVar[bool] = False
    kind: ClassVar[str] = "message"

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "message_type" not in cls.__dict__:
            return  # an abstract family base
        if not getattr(cls, "subject", ""):
            raise TypeError(f"{cls.__name__} declares message_type but no subject")
        for name in cls.subject_params():
            if name not in cls.model_fields:
                raise TypeError(f"{cls.__name__}.subject names {{{name}}}, which is not a field")
        if cls.kind == "event" and cls.__module__.startswith("callisto_protocol."):
            publisher = getattr(cls, "publisher", "")
            placeholder = _PLACEHOLDER_RE.fullmatch(publisher)
            if not publisher or (placeholder and placeholder.group(1) not in cls.subject_params()):
                raise TypeError(f"{cls.__name__} declares no publisher (a service, or a subject placeholder)")
        other = _REGISTRY.get(cls.message_type)
        if other is not None and other.__qualname__ != cls.__qualname__:
            raise TypeError(f"message type {cls.message_type!r} declared twice ({other.__name__})")
        _REGISTRY[cls.message_type] = cls

    # subjects ---------------------------------------------------------------------------------
    @classmethod
    def subject_params(cls) -> list[str]:
        return _PLACEHOLDER_RE.findall(cls.subject)

    @classmethod
    def subscription(cls, **params: str) -> str:
        """The subject to subscribe to: given parameters filled in, the others as ``*``."""
        unknown = set(params) - set(cls.subject_params())
        if unknown:
            raise SubjectError(f"{cls.__name__} has no subject parameter {sorted(unknown)}")
        values = {
            name: _checked_token(name, params[name]) if name in params else "*"
            for name in cls.subject_params()
        }
        return cls.subject.format(**values)

    def render_subject(self) -> str:
        """This message's concrete subject."""
        values = {name: _checked_token(name, str(getattr(self, name))) for name in self.subject_params()}
        return self.subject.format(**values)

    @classmethod
    def parse_subject(cls, subject: str) -> dict[str, str]:
        """The parameters of a concrete subject; raises SubjectError when it does not match."""
        pattern_tokens = cls.subject.split(".")
        tokens = subject.split(".")
        if len(tokens) != len(pattern_tokens):
            raise SubjectError(f"{subject!r} does not match {cls.subject!r}")
        params: dict[str, str] = {}
        for want, got in zip(pattern_tokens, tokens, strict=True):
            match = _PLACEHOLDER_RE.fullmatch(want)
            if match:
                params[match.group(1)] = got
            elif want != got:
                raise SubjectError(f"{subject!r} does not match {cls.subject!r}")
        return params

    # bodies -----------------------------------------------------------------------------------
    def encode(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def decode(cls, data: bytes) -> Self:
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            raise MessageDecodeError(
                f"body is not a valid {cls.message_type}",
                {
                    "errors": [
                        {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()[:20]
                    ]
                },
            ) from None


class Event(Message):
    """Something that happened; published, never answered.

    ``publisher`` names the one service that may publish it: a service name, or a subject placeholder
    (``"{service}"``) when every service publishes its own. NATS grants publishing by it, and a receiver
    refuses an event whose envelope names another origin."""

    kind: ClassVar[str] = "event"
    publisher: ClassVar[str] = ""

    @classmethod
    def publisher_of(cls, subject: str) -> str:
        """The service allowed to publish on ``subject`` ("" when the class names none)."""
        placeholder = _PLACEHOLDER_RE.fullmatch(cls.publisher)
        if placeholder is None:
            return cls.publisher
        return cls.parse_subject(subject).get(placeholder.group(1), "")


class Reply(Message):
    """The result of a command. Replies travel to an inbox, so their subject is only descriptive."""

    kind: ClassVar[str] = "reply"
    subject: ClassVar[str] = "_INBOX"


class Command(Message):
    """A request for work, answered by exactly one instance with its ``reply_type`` or an ErrorReply."""

    kind: ClassVar[str] = "command"
    reply_type: ClassVar[type[Reply]]


class ErrorReply(Reply):
    """The answer to a command that could not be carried out."""

    message_type: ClassVar[str] = "error"
    error_id: str
    message: str
    details: dict[str, Any] = {}
    status: int | None = Field(default=None, ge=400, le=599, description="the owner's HTTP status for it")


def _checked_token(name: str, value: str) -> str:
    if not is_token(value):
        raise SubjectError(f"subject parameter {name}={value!r} is not a single token", {"param": name})
    return value


def message_class(message_type: str) -> type[Message]:
    try:
        return _REGISTRY[message_type]
    except KeyError:
        raise UnknownMessageType(f"no message type {message_type!r}") from None


def all_message_classes(*, protocol_only: bool = True) -> Iterator[type[Message]]:
    """Every registered message class, in a stable order. The bus's own messages are those declared
    in ``callisto_protocol``; ``protocol_only=False`` adds classes declared elsewhere (tests)."""
    for name in sorted(_REGISTRY):
        cls = _REGISTRY[name]
        if not protocol_only or cls.__module__.startswith("callisto_protocol."):
            yield cls
