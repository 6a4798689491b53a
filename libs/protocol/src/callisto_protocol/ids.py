"""Typed identifiers.

Every id that may appear in a subject is a single subject token: letters, digits, ``_`` and ``-``,
never ``.``, ``*``, ``>`` or white space, so that no value can widen or break a subscription.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, StringConstraints

TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
SERVICE_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,39}$"
_TOKEN_RE = re.compile(TOKEN_PATTERN)

Token = Annotated[str, StringConstraints(pattern=TOKEN_PATTERN)]
ServiceName = Annotated[str, StringConstraints(pattern=SERVICE_NAME_PATTERN)]


def _known_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


# an IANA time zone this machine knows ("Europe/Moscow")
TimeZoneName = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(_known_zone)]
InstanceId = Token
CallId = Token
AgentId = Token
QueueId = Token
MessageId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


def is_token(value: str) -> bool:
    """True when ``value`` may stand as one subject token."""
    return bool(_TOKEN_RE.match(value))


def new_id() -> str:
    """A fresh random id, usable as a subject token and as a JetStream de-duplication id."""
    return uuid.uuid4().hex
