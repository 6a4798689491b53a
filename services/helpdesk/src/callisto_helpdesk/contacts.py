"""Contacts as integrators and operators write them (validated here) and as they are shown."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from callisto_protocol.contacts import ContactCard
from callisto_protocol.ids import TOKEN_PATTERN

EMAIL_PATTERN = r"^[^@\s<>\"']{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$"


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    number: str = Field(min_length=1, max_length=64, description="any format; stored in E.164")
    label: str = Field(default="", max_length=30, description="mobile, office, ...")


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["person", "organisation"] = "person"
    name: str = Field(min_length=1, max_length=200)
    organisation_id: str | None = Field(default=None, pattern=TOKEN_PATTERN)
    phones: list[PhoneIn] = Field(default=[], max_length=20)
    emails: list[str] = Field(default=[], max_length=20)
    vip: bool = False
    personal_agent_id: str | None = Field(default=None, pattern=TOKEN_PATTERN)
    attributes: dict[str, str] = Field(default={}, max_length=50, description="account, address, ...")

    @field_validator("name")
    @classmethod
    def _name(cls, name: str) -> str:
        name = " ".join(name.split())
        if not name:
            raise ValueError("a name is more than spaces")
        return name

    @field_validator("emails")
    @classmethod
    def _emails(cls, emails: list[str]) -> list[str]:
        import re

        for email in emails:
            if not re.match(EMAIL_PATTERN, email):
                raise ValueError(f"{email[:80]!r} is not an email address")
        return [e.lower() for e in emails]

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, attributes: dict[str, str]) -> dict[str, str]:
        for key, value in attributes.items():
            if not key or len(key) > 64 or not all(c.isalnum() or c in "-_" for c in key):
                raise ValueError(f"attribute name {key[:70]!r} is not a token")
            if len(value) > 500:
                raise ValueError(f"attribute {key!r} is longer than 500 characters")
        return attributes


class PhoneOut(BaseModel):
    number: str = Field(description="E.164")
    extension: str | None = None
    label: str = ""


class Contact(BaseModel):
    contact_id: str
    kind: str
    name: str
    organisation_id: str | None = None
    organisation: str | None = None
    phones: list[PhoneOut]
    emails: list[str]
    vip: bool
    personal_agent_id: str | None
    attributes: dict[str, str]
    created_at: datetime
    updated_at: datetime

    def card(self) -> ContactCard:
        return ContactCard(
            contact_id=self.contact_id, name=self.name, kind=self.kind, organisation=self.organisation,
            vip=self.vip, personal_agent_id=self.personal_agent_id, account=self.attributes.get("account"),
        )  # fmt: skip
