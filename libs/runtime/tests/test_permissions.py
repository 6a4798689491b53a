from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callisto_runtime.permissions import allowed, is_permission, matches

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("granted", "required", "agent", "ok"), [
    ("core-bus.services.read", "core-bus.services.read", None, True),
    ("core-bus.services.*.read", "core-bus.services.auth.read", None, True),
    ("core-bus.services.*.read", "core-bus.services.auth.drain", None, False),
    ("core-bus.*", "core-bus.services.read", None, False),  # * is one segment
    ("helpdesk.tickets.#", "helpdesk.tickets.42.comments.create", None, True),
    ("helpdesk.tickets.#", "helpdesk.contacts.1.read", None, False),
    ("#", "anything.at.all", None, True),
    ("qm.agents.{agent_id}.state.update", "qm.agents.a7.state.update", "a7", True),
    ("qm.agents.{agent_id}.state.update", "qm.agents.a8.state.update", "a7", False),
    ("qm.agents.{agent_id}.state.update", "qm.agents.a7.state.update", None, False),
    ("qm.agents", "qm.agents.a7", None, False),
])  # fmt: skip
def test_matches(granted: str, required: str, agent: str | None, ok: bool) -> None:
    assert matches(granted, required, agent) is ok


def test_allowed_and_form() -> None:
    assert allowed(["a.b", "c.#"], "c.d.e")
    assert not allowed([], "a.b")
    assert is_permission("qm.agents.{agent_id}.state.update")
    assert not is_permission("qm.#.x")
    assert not is_permission("qm..x")
    assert not is_permission("QM.x")
    assert not is_permission("qm.*", pattern=False)


segment = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)


@given(st.lists(segment, min_size=1, max_size=6))
def test_a_permission_always_matches_itself_and_hash_covers_all(parts: list[str]) -> None:
    permission = ".".join(parts)
    assert matches(permission, permission)
    assert matches("#", permission)
    assert matches(".".join(["*"] * len(parts)), permission)
    assert not matches(permission + ".more", permission)
