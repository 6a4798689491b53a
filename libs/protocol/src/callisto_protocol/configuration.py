"""Configuration as data: each piece of a service's configuration is a document kept in the NATS KV
bucket ``cc_config`` under ``<owner>.<document>`` (e.g. ``call-manager.dial-plan``), with history.

A change goes through core-bus's control API: the owner validates the body first (``ValidateConfig``,
with the person's token), then core-bus writes it (the KV revision is its version) and announces it
(``ConfigChanged``); the owner's instances watch their keys and apply each new version without a
restart. A document the owner refuses is never written: the old one stays."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from callisto_protocol.ids import ServiceName
from callisto_protocol.messages import Command, Event, Reply

CONFIG_BUCKET = "cc_config"
CONFIG_HISTORY = 64  # versions kept per document (rollback reaches back this far)
DOCUMENT_PATTERN = r"^[a-z][a-z0-9-]{0,47}\.[a-z][a-z0-9-]{0,47}$"  # <owner>.<document>


class ConfigVersion(BaseModel):
    """What the bucket holds for one version of a document."""

    model_config = ConfigDict(frozen=True)

    body: dict[str, Any] = Field(description="the document, as its owner reads it (YAML's data)")
    by: str = Field(description="who made this version: a person's subject, or the owner seeding it")
    at: datetime
    comment: str = Field(default="", max_length=500)


def document_key(owner: str, document: str) -> str:
    return f"{owner}.{document}"


class ConfigValid(Reply):
    message_type: ClassVar[str] = "config.valid"
    document: str
    summary: str = Field(description="what the owner read, in a line (e.g. '3 trunks, 4 flows')")


class ValidateConfig(Command):
    """Would the owner accept this body? It parses it with its own model and answers ConfigValid, or
    an error whose message says what is wrong (``invalid-config``)."""

    message_type: ClassVar[str] = "config.validate"
    subject: ClassVar[str] = "cc.rpc.{service}.config-validate"
    reply_type: ClassVar[type[Reply]] = ConfigValid
    service: ServiceName
    document: str = Field(pattern=DOCUMENT_PATTERN)
    body: dict[str, Any]


class ConfigChanged(Event):
    """A new version of a document was written (applied, rolled back or imported)."""

    message_type: ClassVar[str] = "config.changed"
    subject: ClassVar[str] = "cc.config.{owner}.changed"
    publisher: ClassVar[str] = "core-bus"
    owner: ServiceName
    document: str = Field(pattern=DOCUMENT_PATTERN)
    version: int
    by: str
    comment: str = ""
