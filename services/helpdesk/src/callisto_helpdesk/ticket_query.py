"""A ticket list's filter, order and page as SQL: the desk's queue views (mine, my team's, unassigned,
breaching), full-text search in subject and description (any language: words as written, each a
prefix), a category with everything under it, priority, SLA standing; one page of a sort."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from callisto_helpdesk.access import EVERYTHING, Scope

# the expression the full-text index is built on (migration 0007): the same text here
TEXT = "to_tsvector('simple', t.subject || ' ' || t.description)"
WORD = re.compile(r"\w+", re.UNICODE)
COUNT_CAP = 10_000  # a total beyond this is said as "more than"


class Sort(StrEnum):
    URGENT = "urgent"  # priority, then the nearest resolution deadline
    DUE = "due"  # the nearest resolution deadline first
    NEWEST = "newest"
    OLDEST = "oldest"
    UPDATED = "updated"  # recently changed first


ORDER = {
    Sort.URGENT: "t.priority, t.resolution_due NULLS LAST, t.created_at, t.id",
    Sort.DUE: "t.resolution_due NULLS LAST, t.priority, t.id",
    Sort.NEWEST: "t.created_at DESC, t.id DESC",
    Sort.OLDEST: "t.created_at, t.id",
    Sort.UPDATED: "t.updated_at DESC, t.id DESC",
}


def text_query(text: str) -> str | None:
    """A tsquery in which every word of ``text`` must begin a word of the ticket (None: no words)."""
    words = WORD.findall(text.lower())[:10]
    return " & ".join(f"{w}:*" for w in words) or None


@dataclass(frozen=True)
class TicketQuery:
    state: str | None = None
    open_only: bool = False  # neither closed nor merged
    assignee: str | None = None
    unassigned: bool = False
    team: str | None = None  # a staff id: tickets of their peers (same manager), their reports and theirs
    department: str | None = None
    category: str | None = None  # the category or any below it
    priority: int | None = None
    sla_standing: str | None = None
    breaching: bool = False  # warning or breached
    contact_id: str | None = None
    call_id: str | None = None
    text: str = ""
    scope: Scope = EVERYTHING

    def where(self) -> tuple[str | None, str, list[Any]]:
        """SQL conditions on tickets ``t``: the words' (None without words) and the rest's, and
        their arguments ($1...)."""
        args: list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        parts: list[str] = []
        for column, value in (
            ("state", self.state), ("assignee", self.assignee), ("department", self.department),
            ("priority", self.priority), ("sla_standing", self.sla_standing),
            ("contact_id", self.contact_id), ("call_id", self.call_id),
        ):  # fmt: skip
            if value is not None:
                parts.append(f"t.{column} = {arg(value)}")
        if self.open_only:
            parts.append("t.state NOT IN ('closed', 'merged')")
        if self.unassigned:
            parts.append("t.assignee IS NULL")
        if self.breaching:
            parts.append("t.sla_standing IN ('warning', 'breached')")
        if self.team is not None:
            me = arg(self.team)
            parts.append(
                f"(t.assignee = {me} OR t.assignee IN (SELECT s.id FROM staff s WHERE s.manager_id = {me}"
                f" OR s.manager_id = (SELECT m.manager_id FROM staff m WHERE m.id = {me})))"
            )
        if self.category is not None:
            parts.append(
                "t.category_id IN (WITH RECURSIVE down(id) AS ("
                f"SELECT id FROM categories WHERE id = {arg(self.category)}"
                " UNION SELECT c.id FROM categories c JOIN down ON c.parent_id = down.id)"
                " SELECT id FROM down)"
            )
        text: str | None = None
        if self.text.strip():
            words = text_query(self.text)
            number = self.text.strip().lstrip("#")
            match = [f"{TEXT} @@ to_tsquery('simple', {arg(words)})"] if words else []
            if number.isdigit() and len(number) < 19:
                match.append(f"t.number = {arg(int(number))}")
            text = f"({' OR '.join(match)})" if match else "FALSE"
        in_scope, scoped = self.scope.where(len(args) + 1)
        args.extend(scoped)
        parts.append(in_scope)
        return text, " AND ".join(parts), args

    def _source(self) -> tuple[str, str, list[Any]]:
        """FROM what and WHERE what. With words, the tickets that have them are found first (the
        full-text index; otherwise a planner may walk an order's index hoping to meet them soon)."""
        text, rest, args = self.where()
        if text is None:
            return "tickets t", rest, args
        return f"(SELECT * FROM tickets t WHERE {text} OFFSET 0) t", rest, args

    def page(self, sort: Sort, limit: int, offset: int) -> tuple[str, list[Any]]:
        source, condition, args = self._source()
        n = len(args)
        sql = f"SELECT t.* FROM {source} WHERE {condition} ORDER BY {ORDER[sort]}"
        return f"{sql} LIMIT ${n + 1} OFFSET ${n + 2}", [*args, limit, offset]

    def count(self) -> tuple[str, list[Any]]:
        """How many match, counted up to one beyond COUNT_CAP."""
        source, condition, args = self._source()
        capped = f"SELECT 1 FROM {source} WHERE {condition} LIMIT {COUNT_CAP + 1}"
        return f"SELECT count(*) FROM ({capped}) x", args
