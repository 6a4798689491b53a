"""A campaign's report: a summary, one final row per contact and every attempt (the compliance log), in
JSON, CSV or XLSX. Made from the attempts and dispositions as stored, so it always equals the log.

- penetration: contacts attempted at least once ÷ contacts on the list;
- contact rate: attempts answered by a person ÷ attempts dialled;
- right-party contacts: answered attempts whose disposition is not ``wrong-person``;
- promises: promise-to-pay dispositions, their count and amount;
- abandon rate (the policy's formula): abandoned ÷ live-answered attempts (answered by a person:
  taken by an agent or abandoned), over the whole campaign."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from callisto_runtime.database import Database

CONTACT_COLUMNS = (
    "external_id", "name", "state", "outcome", "attempts", "last_attempt_at", "amount_owed", "due_date",
    "disposition", "promised_amount", "promised_for", "note",
)  # fmt: skip
ATTEMPT_COLUMNS = (
    "id", "external_id", "number", "policy", "state", "outcome", "disposition", "planned_at", "dialled_at",
    "answered_at", "connected_at", "agent_id", "ended_at", "checked",
)  # fmt: skip
CONTACTS = """
SELECT k.external_id, k.name, k.state, k.outcome, k.attempts, k.amount_owed, k.due_date,
       last.planned_at AS last_attempt_at, d.code AS disposition, d.amount AS promised_amount,
       d.promised_for, d.note
FROM contacts k
LEFT JOIN LATERAL (
    SELECT a.id, a.planned_at FROM attempts a
    WHERE a.campaign_id = k.campaign_id AND a.external_id = k.external_id
    ORDER BY a.planned_at DESC, a.id DESC LIMIT 1
) last ON true
LEFT JOIN LATERAL (
    SELECT d.* FROM dispositions d JOIN attempts a ON a.id = d.attempt_id
    WHERE a.campaign_id = k.campaign_id AND a.external_id = k.external_id
    ORDER BY d.at DESC LIMIT 1
) d ON true
WHERE k.campaign_id = $1 ORDER BY k.external_id
"""
ATTEMPTS = """
SELECT a.*, d.code AS disposition, d.amount AS promised_amount
FROM attempts a LEFT JOIN dispositions d ON d.attempt_id = a.id
WHERE a.campaign_id = $1 ORDER BY a.planned_at, a.id
"""


async def campaign_report(database: Database, campaign: dict[str, Any]) -> dict[str, Any]:
    async with database.pool.acquire() as conn, conn.transaction(readonly=True, isolation="repeatable_read"):
        contacts = [dict(r) for r in await conn.fetch(CONTACTS, campaign["id"])]
        attempts = [dict(r) for r in await conn.fetch(ATTEMPTS, campaign["id"])]
    listed = [c for c in contacts if c["state"] != "removed"]
    dialled = [a for a in attempts if a["dialled_at"] is not None or a["answered_at"] is not None]
    live = [a for a in attempts if a["answered_at"] is not None]
    abandoned = [a for a in attempts if a["outcome"] == "abandoned"]
    promises = [a for a in attempts if a["disposition"] == "promise-to-pay"]
    promised = sum((a["promised_amount"] or Decimal(0) for a in promises), Decimal(0))
    summary = {
        "campaign_id": campaign["id"], "name": campaign["name"], "state": campaign["state"],
        "policy": campaign["policy"], "contacts": len(listed),
        "attempted": sum(1 for c in listed if c["last_attempt_at"] is not None),
        "attempts": len(attempts), "dialled": len(dialled), "live_answered": len(live),
        "agent_answered": sum(1 for a in attempts if a["connected_at"] is not None),
        "abandoned": len(abandoned),
        "right_party_contacts": sum(1 for a in attempts if a["connected_at"] is not None
                                    and a["disposition"] != "wrong-person"),
        "promises": len(promises), "promised_amount": str(promised),
        "paid": sum(1 for a in attempts if a["disposition"] == "paid"),
        "do_not_call": sum(1 for c in listed if c["outcome"] == "do-not-call"),
    }  # fmt: skip
    summary["penetration"] = _ratio(summary["attempted"], summary["contacts"])
    summary["contact_rate"] = _ratio(summary["live_answered"], summary["dialled"])
    summary["abandon_rate"] = _ratio(summary["abandoned"], summary["live_answered"])
    return {"summary": summary, "contacts": contacts, "attempts": attempts}


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _cell(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def to_csv(report: dict[str, Any], part: str) -> str:
    """One part as CSV: ``contacts`` (a final row each) or ``attempts`` (the compliance log)."""
    names = CONTACT_COLUMNS if part == "contacts" else ATTEMPT_COLUMNS
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(names)
    for row in report[part]:
        writer.writerow([_cell(row.get(name)) for name in names])
    return out.getvalue()


def to_xlsx(report: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "summary"
    for key, value in report["summary"].items():
        sheet.append([key, _cell(value)])
    for part, names in (("contacts", CONTACT_COLUMNS), ("attempts", ATTEMPT_COLUMNS)):
        page = book.create_sheet(part)
        page.append(list(names))
        for cell in page[1]:
            cell.font = Font(bold=True)
        for row in report[part]:
            page.append([_cell(row.get(name)) for name in names])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
