"""Contacts (helpdesk): who is calling. The screen pop and the IVR's caller lookup ask by number;
helpdesk normalises whatever caller-id format arrives (spaces, dashes, slashes, a national prefix,
an extension) to E.164 before it looks."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from callisto_protocol.ids import AgentId, Token
from callisto_protocol.messages import Command, Event, Reply


class ContactCard(BaseModel):
    """What a caller lookup needs to know of a contact."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    contact_id: Token
    name: str = Field(max_length=200)
    kind: str = Field(default="person", description="person or organisation")
    organisation: str | None = Field(default=None, max_length=200)
    vip: bool = False
    personal_agent_id: AgentId | None = Field(default=None, description="the contact's own agent")
    account: str | None = Field(default=None, max_length=64)


class ContactMatch(Reply):
    message_type: ClassVar[str] = "contacts.match"
    number: str | None = Field(default=None, description="the number in E.164; None when it is not one")
    contact: ContactCard | None = None


class LookupContact(Command):
    """Who has this number? No match is not an error (``contact`` None)."""

    message_type: ClassVar[str] = "contacts.lookup"
    subject: ClassVar[str] = "cc.rpc.helpdesk.lookup-contact"
    reply_type: ClassVar[type[Reply]] = ContactMatch
    number: str = Field(min_length=1, max_length=64)


class ContactChanged(Event):
    message_type: ClassVar[str] = "contacts.changed"
    subject: ClassVar[str] = "cc.ticket.contact.{contact_id}"
    publisher: ClassVar[str] = "helpdesk"
    contact_id: Token
    change: Token = Field(description="created, updated or deleted")
    card: ContactCard | None = None
