"""Phone numbers to E.164 whatever the caller-id format, and contact validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from callisto_helpdesk.contacts import ContactIn
from callisto_helpdesk.errors import InvalidPhoneNumber
from callisto_helpdesk.phones import lookup_key, normalize

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "e164", "extension"),
    [
        ("+7 912 345-67-89", "+79123456789", None),
        ("8 (912) 345-67-89", "+79123456789", None),  # the national prefix 8
        ("89123456789", "+79123456789", None),
        ("9123456789", "+79123456789", None),
        ("+7 (495) 123-45-67 ext. 12", "+74951234567", "12"),
        ("8-495-123-45-67 x12", "+74951234567", "12"),
        ("+49 30/123456", "+4930123456", None),  # slashes
        ("0049 30 123456", "+4930123456", None),  # 00 as the international prefix
        ("+1.202.555.0147", "+12025550147", None),
        ("  +44 20 7946 0958  ", "+442079460958", None),
    ],
)
def test_caller_ids_of_every_shape_become_e164(raw: str, e164: str, extension: str | None) -> None:
    number = normalize(raw, "RU")
    assert (number.e164, number.extension) == (e164, extension)
    assert lookup_key(raw, "RU") == e164


@pytest.mark.parametrize("raw", ["", "anonymous", "12", "+7 912", "x" * 65, "+999 123456789", "<script>"])
def test_what_cannot_be_a_number_is_refused_on_write_and_no_match_on_lookup(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalize(raw, "RU")
    assert lookup_key(raw, "RU") is None


def test_contacts_are_checked_before_anything_is_written() -> None:
    ok = ContactIn(name="  Vera   Vasquez ", emails=["Vera@Example.org"], attributes={"account": "1"})
    assert (ok.name, ok.emails) == ("Vera Vasquez", ["vera@example.org"])
    for bad in (
        {"name": ""},
        {"name": "   "},
        {"name": "x", "emails": ["not an email"]},
        {"name": "x", "attributes": {"bad key": "v"}},
        {"name": "x", "attributes": {"k": "v" * 501}},
        {"name": "x", "kind": "robot"},
        {"name": "x", "phones": [{"number": "1"}] * 21},
        {"name": "x", "unknown": 1},
    ):
        with pytest.raises(ValidationError):
            ContactIn.model_validate(bad)
