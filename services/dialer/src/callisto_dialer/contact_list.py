"""A contact list as billing sends it, read and checked row by row before anything is written.

JSON: an array of objects. CSV (UTF-8, a header row): ``external_id``, ``name``, ``phone`` (or
``phone1`` … ``phone5``, or ``numbers`` with ``;`` between them: the order is the priority),
``time_zone``, ``amount_owed``, ``due_date``, ``remove``; any other column is an attribute shown on the
agent's card. Numbers are read in the campaign's region when they have no country code and kept in
E.164. A contact's time zone is the one given or, when none is, every zone its numbers may be in: it is
then called only when the hours hold in all of them. Every bad row is reported (row number, external
id, field, reason); a list with any is refused whole."""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

import phonenumbers
from phonenumbers import timezone as phone_zones
from pydantic import BaseModel, ConfigDict, Field, ValidationError

EXTERNAL_ID = r"^[A-Za-z0-9_.:@/-]{1,100}$"
ATTRIBUTE = re.compile(r"[A-Za-z0-9_. -]{1,64}")
KNOWN_COLUMNS = {"external_id", "name", "phone", "numbers", "time_zone", "amount_owed", "due_date", "remove"}
PHONE_COLUMNS = ("phone", *(f"phone{n}" for n in range(1, 6)))
MAX_ERRORS = 1000
UNKNOWN_ZONE = "Etc/Unknown"


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    external_id: str = Field(pattern=EXTERNAL_ID, description="billing's id: a second import updates")
    name: str = Field(default="", max_length=200)
    numbers: list[str] = Field(default=[], max_length=5, description="first the one to try first")
    time_zone: str | None = Field(default=None, max_length=64, description="IANA; None: from the numbers")
    amount_owed: Decimal | None = Field(default=None, ge=0, max_digits=14, decimal_places=2)
    due_date: date | None = None
    attributes: dict[str, str] = Field(default={}, max_length=30)
    remove: bool = Field(default=False, description="take the contact off the list")


@dataclass(frozen=True)
class Contact:
    external_id: str
    name: str
    numbers: list[str]  # E.164, first the one to try first
    zones: list[str]
    amount_owed: Decimal | None
    due_date: date | None
    attributes: dict[str, str]
    remove: bool


@dataclass(frozen=True)
class RowError:
    row: int  # 1 = the first contact (CSV: the line after the header)
    external_id: str | None
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "external_id": self.external_id,
            "field": self.field,
            "message": self.message,
        }


class ListUnreadable(ValueError):
    """The body is not a list at all (not JSON, not CSV with a header, not UTF-8)."""


@lru_cache(maxsize=1)
def zones_known() -> frozenset[str]:
    return frozenset(available_timezones())


def records_of(body: bytes, content_type: str) -> list[dict[str, Any]]:
    """The rows of a JSON array or a CSV file, as dictionaries (CSV columns folded into fields)."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ListUnreadable(f"not UTF-8 text (byte {exc.start})") from exc
    if content_type.split(";")[0].strip().lower() in ("text/csv", "application/csv"):
        return _csv_records(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ListUnreadable(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise ListUnreadable("a JSON list is an array of contact objects")
    return data


def _csv_records(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "external_id" not in header:
        raise ListUnreadable("a CSV list starts with a header row naming external_id and the other columns")
    reader.fieldnames = header
    records = []
    for raw in reader:
        row = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        record: dict[str, Any] = {k: row[k] for k in ("external_id", "name", "time_zone") if row.get(k)}
        numbers = [row[c] for c in PHONE_COLUMNS if row.get(c)]
        numbers += [n.strip() for n in row.get("numbers", "").split(";") if n.strip()]
        record["numbers"] = numbers
        for column in ("amount_owed", "due_date"):
            if row.get(column):
                record[column] = row[column]
        if row.get("remove"):
            record["remove"] = row["remove"].lower() in ("1", "true", "yes", "y")
        record["attributes"] = {
            k: v for k, v in row.items() if k not in KNOWN_COLUMNS and k not in PHONE_COLUMNS and v
        }
        if None in raw:  # more cells than columns
            record["_extra"] = raw[None]
        records.append(record)
    return records


def read_contacts(records: list[dict[str, Any]], region: str) -> tuple[list[Contact], list[RowError]]:
    """Every row checked; the contacts when none is bad, else the errors (at most ``MAX_ERRORS``)."""
    contacts: list[Contact] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for index, record in enumerate(records, start=1):
        if len(errors) >= MAX_ERRORS:
            break
        found = _read_one(index, record, region, errors)
        if found is None:
            continue
        first = seen.setdefault(found.external_id, index)
        if first != index:
            errors.append(RowError(index, found.external_id, "external_id", f"also on row {first}"))
            continue
        contacts.append(found)
    return contacts, errors


def _read_one(index: int, record: dict[str, Any], region: str, errors: list[RowError]) -> Contact | None:
    given_id = record.get("external_id") if isinstance(record.get("external_id"), str) else None
    if "_extra" in record:
        errors.append(RowError(index, given_id, "(row)", "more cells than the header has columns"))
        return None
    try:
        row = ContactIn.model_validate(record)
    except ValidationError as exc:
        for e in exc.errors()[:5]:
            field = ".".join(str(p) for p in e["loc"]) or "(row)"
            errors.append(RowError(index, given_id, field, e["msg"]))
        return None
    bad = len(errors)
    for attribute in row.attributes:
        if not ATTRIBUTE.fullmatch(attribute):
            errors.append(RowError(index, row.external_id, f"attributes.{attribute}", "not a usable name"))
    numbers: list[str] = []
    zones: list[str] = []
    for position, raw in enumerate(row.numbers):
        parsed = _number(raw, region)
        if parsed is None:
            errors.append(
                RowError(index, row.external_id, f"numbers.{position}", f"{raw!r} is not a valid number")
            )
            continue
        e164, its_zones = parsed
        if e164 not in numbers:
            numbers.append(e164)
            zones += [z for z in its_zones if z not in zones]
    if not row.remove and not row.numbers:
        errors.append(RowError(index, row.external_id, "numbers", "a contact needs a number to be called on"))
    if row.time_zone is not None:
        if row.time_zone not in zones_known():
            errors.append(
                RowError(index, row.external_id, "time_zone", f"unknown time zone {row.time_zone!r}")
            )
        zones = [row.time_zone]
    elif numbers and not zones:
        errors.append(
            RowError(index, row.external_id, "time_zone", "its numbers tell no time zone: give one")
        )
    if len(errors) > bad:
        return None
    return Contact(
        row.external_id,
        row.name,
        numbers,
        zones,
        row.amount_owed,
        row.due_date,
        dict(row.attributes),
        row.remove,
    )


def _number(raw: str, region: str) -> tuple[str, tuple[str, ...]] | None:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    zones = tuple(z for z in phone_zones.time_zones_for_number(number) if z != UNKNOWN_ZONE)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), zones
