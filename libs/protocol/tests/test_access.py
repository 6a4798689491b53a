"""NATS permissions derived from the message classes."""

from __future__ import annotations

import pytest

from callisto_protocol.access import nats_permissions
from callisto_protocol.messages import Event, all_message_classes

pytestmark = pytest.mark.unit
SERVICES = ("core-bus", "auth", "call-manager", "queue-manager", "snitch", "helpdesk", "recording", "dialer")


def covers(granted: str, template: str) -> bool:
    """True when the granted pattern lets a service publish on some subject of ``template``."""
    have, want = granted.split("."), template.split(".")
    return len(have) == len(want) and all(
        a == b or (a == "*" and b.startswith("{")) or (b.startswith("{") and a != "*")
        for a, b in zip(have, want, strict=True)
    )


def test_every_event_has_exactly_one_publishing_service() -> None:
    for cls in all_message_classes():
        if issubclass(cls, Event):
            allowed = [
                s
                for s in SERVICES
                if any(covers(p, cls.subject) for p in nats_permissions(s)["publish"]["allow"])
            ]
            expected = list(SERVICES) if cls.publisher.startswith("{") else [cls.publisher]
            assert allowed == expected, cls.message_type


def test_a_service_reads_its_own_commands_and_replies_only() -> None:
    helpdesk = nats_permissions("helpdesk")
    assert "cc.rpc.helpdesk.lookup-contact" in helpdesk["subscribe"]["allow"]
    assert not [s for s in helpdesk["subscribe"]["allow"] if s.startswith(("cc.rpc.call-manager", "_INBOX."))]
    assert "_INBOX_helpdesk.>" in helpdesk["subscribe"]["allow"]
    assert "cc.recording.*.available" not in helpdesk["publish"]["allow"]
    assert "cc.recording.*.available" in nats_permissions("recording")["publish"]["allow"]
    assert not [
        s for s in helpdesk["publish"]["allow"] if s.startswith("cc.control.")
    ]  # only core-bus drains
    assert "cc.control.*.*.drain" in nats_permissions("core-bus")["publish"]["allow"]
