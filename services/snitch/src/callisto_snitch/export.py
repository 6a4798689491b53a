"""Reports as files: CSV (UTF-8, one header line) and XLSX (one sheet per series)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

STATES = ("ready", "reserved", "on_call", "wrap_up", "not_ready")


def columns(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return ["bucket"]
    names = [k for k in rows[0] if k != "seconds"]
    return names + [f"{s}_s" for s in STATES]


def flat_row(row: dict[str, Any], names: list[str]) -> list[Any]:
    seconds = row.get("seconds", {})
    return [seconds.get(n[:-2], 0.0) if n.endswith("_s") and n[:-2] in STATES else row.get(n) for n in names]


def to_csv(report: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    names = columns(report["rows"])
    writer.writerow(["series", *names])
    for series in ("rows", "compare_rows"):
        for row in report.get(series) or []:
            writer.writerow([series.removesuffix("_rows").replace("rows", "current"), *flat_row(row, names)])
    return out.getvalue()


def to_xlsx(report: dict[str, Any]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    names = columns(report["rows"])
    for index, series in enumerate(("rows", "compare_rows")):
        rows = report.get(series)
        if rows is None:
            continue
        if index:
            sheet = book.create_sheet()
        sheet.title = "current" if series == "rows" else "compared"
        sheet.append([f"{report['kind']} {report['id']}, by {report['interval']}"])
        sheet.append(names)
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append(flat_row(row, names))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
