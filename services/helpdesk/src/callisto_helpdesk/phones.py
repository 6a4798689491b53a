"""Phone numbers in E.164 whatever the caller-id looks like: spaces, dashes, dots, slashes,
brackets, a national prefix (8 in Russia), a leading +, an extension (``ext.``, ``x``, ``;ext=``)."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers

from callisto_helpdesk.errors import InvalidPhoneNumber

MAX_LENGTH = 64


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    extension: str | None = None


def normalize(raw: str, region: str) -> PhoneNumber:
    """The number in E.164 (and its extension); ``InvalidPhoneNumber`` when it cannot be one."""
    text = raw.strip()
    if not text or len(text) > MAX_LENGTH:
        raise InvalidPhoneNumber("a phone number has 1 to 64 characters", {"number": text[:MAX_LENGTH]})
    if text.startswith("00"):  # the international prefix of most of the world
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"{text!r} is not a phone number: {exc}", {"number": text}) from None
    if not phonenumbers.is_possible_number(parsed):
        raise InvalidPhoneNumber(f"{text!r} cannot be a phone number", {"number": text})
    return PhoneNumber(
        phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), parsed.extension
    )


def lookup_key(raw: str, region: str) -> str | None:
    """The E.164 form of a caller id, or None when it is none (anonymous, an internal extension)."""
    try:
        return normalize(raw, region).e164
    except InvalidPhoneNumber:
        return None
