"""The RFC 4475 corpus (../shared/conformance/rfc4475) and what Callisto's parser does with each
message. ``outcome`` renders the line the README's conformance table shows."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from callisto_sip import ParseError, parse_message


def _corpus() -> Path:
    """``CALLISTO_RFC4475_DIR``, or ``shared/conformance/rfc4475`` beside the checkout or above it."""
    if os.environ.get("CALLISTO_RFC4475_DIR"):
        return Path(os.environ["CALLISTO_RFC4475_DIR"])
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "shared" / "conformance" / "rfc4475"
        if (candidate / "MANIFEST.tsv").is_file():
            return candidate
    raise FileNotFoundError(
        "the RFC 4475 corpus (shared/conformance/rfc4475) is not beside this checkout; "
        "set CALLISTO_RFC4475_DIR"
    )


CORPUS = _corpus()


@dataclass(frozen=True)
class Case:
    name: str
    section: str
    klass: str
    expected: str
    data: bytes


def cases() -> list[Case]:
    with open(CORPUS / "MANIFEST.tsv", newline="", encoding="utf-8") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t"))
    return [Case(r["name"], r["rfc4475_section"], r["class"], r["expected_behaviour"],
                 (CORPUS / f"{r['name']}.dat").read_bytes()) for r in rows]  # fmt: skip


def outcome(data: bytes) -> str:
    try:
        message = parse_message(data)
    except ParseError as exc:
        return f"rejected {exc.status} {exc.error_id}"
    return f"parsed ({type(message).__name__.lower()})"


def table() -> str:
    lines = ["| message | RFC 4475 class | Callisto's parser | the RFC expects |", "|---|---|---|---|"]
    for case in cases():
        expected = case.expected.split(";")[0].split(":")[0][:90]
        lines.append(f"| `{case.name}` | {case.klass} | {outcome(case.data)} | {expected} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table())
