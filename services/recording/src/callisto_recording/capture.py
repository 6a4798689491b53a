"""What rtpengine left of a call in its recording directory: one pcap per segment (a pause or a new
agent starts another), and for each finished segment a metadata file (moved into ``metadata/`` in
one step when the segment stops or the call is deleted) naming its pcap and carrying what
call-manager said when it started it: ``callisto-recording v1 call=<id> customer=<port> agent=<port>``."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from callisto_recording.converter import Segment
from callisto_recording.errors import CorruptCapture
from callisto_recording.pcap import first_arrival

SAID = re.compile(r"^callisto-recording v1 call=(\S+) customer=(\d+) agent=(\d+)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Capture:
    segments: list[Segment]  # finished, in the order they were recorded
    files: list[Path]  # every file of the call: pcaps and metadata
    open: list[Path]  # pcaps whose metadata has not come (still recording, or left behind)
    unlabelled: list[Path]  # metadata without call-manager's legs (recorded by someone else)


def _order(pcap: Path) -> float:
    """Segments go in the order their first packets came (an unreadable one last: the converter
    says why)."""
    try:
        return first_arrival(pcap) or float("inf")
    except CorruptCapture:
        return float("inf")


def capture_of(folder: Path, call_id: str) -> Capture:
    metadata = sorted((folder / "metadata").glob(f"rtpengine-meta-{call_id}-*.txt"))
    pcaps = sorted((folder / "pcaps").glob(f"{call_id}-*.pcap"))
    finished: dict[Path, Segment] = {}
    unlabelled = []
    for meta in metadata:
        text = meta.read_text(errors="replace")
        pcap = Path(text.splitlines()[0].strip()) if text.strip() else None
        said = SAID.search(text)
        if pcap is None or said is None or said.group(1) != call_id:
            unlabelled.append(meta)
            continue
        pcap = folder / "pcaps" / pcap.name  # the folder as this service sees it
        finished[pcap] = Segment(pcap, int(said.group(2)), int(said.group(3)))
    present = [s for p, s in finished.items() if p.exists()]
    present.sort(key=lambda s: _order(s.pcap))
    return Capture(
        segments=present, files=[*pcaps, *metadata], open=[p for p in pcaps if p not in finished],
        unlabelled=unlabelled,
    )  # fmt: skip


def remove(capture: Capture) -> None:
    for path in capture.files:
        path.unlink(missing_ok=True)


def quarantine(folder: Path, call_id: str, capture: Capture, reason: str) -> Path:
    """Move the call's files aside with the reason beside them; nothing is deleted."""
    aside = folder / "quarantine" / call_id
    aside.mkdir(parents=True, exist_ok=True)
    for path in capture.files:
        if path.exists():
            shutil.move(str(path), aside / path.name)
    (aside / "reason.txt").write_text(reason + "\n")
    return aside
