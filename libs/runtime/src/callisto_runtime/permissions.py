"""Permissions: dotted strings with wildcards (``*`` one segment, ``#`` any number of trailing segments),
optionally scoped to the caller's own agent with the ``{agent_id}`` placeholder.

    granted "qm.agents.{agent_id}.state.update"  allows  "qm.agents.a7.state.update"  for agent a7 only
    granted "helpdesk.tickets.#"                 allows  "helpdesk.tickets.42.comments.create"
    granted "core-bus.services.*.read"           allows  "core-bus.services.auth.read"
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_SEGMENT_RE = re.compile(r"^(?:[a-z0-9][a-z0-9_-]*|\*|#|\{agent_id\})$")


def is_permission(text: str, *, pattern: bool = True) -> bool:
    """True for a well-formed permission (``pattern`` allows wildcards and the placeholder)."""
    segments = text.split(".")
    if not segments or any(not _SEGMENT_RE.match(s) for s in segments):
        return False
    if "#" in segments[:-1]:
        return False
    return pattern or not any(s in ("*", "#", "{agent_id}") for s in segments)


def matches(granted: str, required: str, agent_id: str | None = None) -> bool:
    """True when the granted pattern covers the required permission."""
    want = required.split(".")
    have = granted.split(".")
    for i, segment in enumerate(have):
        if segment == "#":
            return True
        if i >= len(want):
            return False
        if segment == "{agent_id}":
            if agent_id is None or want[i] != agent_id:
                return False
        elif segment != "*" and segment != want[i]:
            return False
    return len(have) == len(want)


def allowed(granted: Iterable[str], required: str, agent_id: str | None = None) -> bool:
    return any(matches(g, required, agent_id) for g in granted)
