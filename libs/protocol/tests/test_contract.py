"""Contract tests: every message round-trips, declares a valid subject, and the package exports
what it promises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from protocol_examples import EXAMPLES

import callisto_protocol
from callisto_protocol import (
    Command,
    Envelope,
    EnvelopeError,
    Event,
    MessageDecodeError,
    Reply,
    SubjectError,
    UnknownMessageType,
    all_message_classes,
    message_class,
)
from callisto_protocol.agents import AgentStateChanged
from callisto_protocol.asyncapi import render
from callisto_protocol.control import DrainInstance
from callisto_protocol.ids import is_token
from callisto_protocol.registry import ServiceHeartbeat
from callisto_protocol.streams import is_stream_subject

pytestmark = pytest.mark.unit
REPO = Path(__file__).resolve().parents[3]


def test_every_registered_message_has_an_example() -> None:
    declared = {cls.message_type for cls in all_message_classes()}
    exemplified = {type(m).message_type for m in EXAMPLES}
    assert declared == exemplified


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: m.message_type)
def test_message_round_trips(message: callisto_protocol.Message) -> None:
    cls = type(message)
    assert cls.decode(message.encode()) == message
    assert message_class(cls.message_type) is cls
    if not issubclass(cls, Reply):
        subject = message.render_subject()
        assert subject.startswith("cc.")
        params = cls.parse_subject(subject)
        assert params == {name: str(getattr(message, name)) for name in cls.subject_params()}
        assert all(is_token(token) for token in subject.split("."))


@pytest.mark.parametrize("cls", list(all_message_classes()), ids=lambda c: c.message_type)
def test_subject_patterns_follow_the_naming_rules(cls: type[callisto_protocol.Message]) -> None:
    if issubclass(cls, Reply):
        return
    tokens = cls.subject.split(".")
    assert tokens[0] == "cc"
    if issubclass(cls, Command):
        assert tokens[1] in {"rpc", "control"}
    else:
        assert issubclass(cls, Event)
        assert tokens[1] not in {"rpc", "control"}


def test_receivers_ignore_fields_they_do_not_know() -> None:
    body = json.loads(EXAMPLES[0].encode())
    body["added_in_a_later_version"] = {"anything": 1}
    assert ServiceHeartbeat.decode(json.dumps(body).encode()) == EXAMPLES[0]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        (b"not json", []),
        (b'{"agent_id": "a.b", "seq": 1, "state": "ready", "since": "2026-11-22T10:00:00Z"}', ["agent_id"]),
        (b'{"agent_id": "a", "seq": -1, "state": "ready", "since": "2026-11-22T10:00:00Z"}', ["seq"]),
        (b'{"agent_id": "a", "seq": 1, "state": "dancing", "since": "2026-11-22T10:00:00Z"}', ["state"]),
        (b'{"agent_id": "a", "seq": 1, "state": "ready"}', ["since"]),
    ],
)
def test_malformed_bodies_are_refused_with_the_field_named(body: bytes, loc: list[str]) -> None:
    with pytest.raises(MessageDecodeError) as caught:
        AgentStateChanged.decode(body)
    assert caught.value.error_id == "invalid-message"
    if loc:
        assert [e["loc"] for e in caught.value.details["errors"]] == [loc]


@pytest.mark.parametrize("value", ["a.b", "*", ">", "a b", "", "x" * 65])
def test_subject_parameters_must_be_single_tokens(value: str) -> None:
    with pytest.raises(SubjectError):
        AgentStateChanged.subscription(agent_id=value)


def test_subscription_fills_wildcards() -> None:
    assert AgentStateChanged.subscription() == "cc.agent.*.state"
    assert DrainInstance.subscription(service="auth") == "cc.control.auth.*.drain"
    with pytest.raises(SubjectError):
        DrainInstance.subscription(queue="x")
    with pytest.raises(SubjectError):
        AgentStateChanged.parse_subject("cc.agent.a.b.state")


def test_envelope_round_trips_through_headers() -> None:
    env = Envelope(
        message_type="agent.state",
        origin_service="queue-manager",
        origin_instance="qm-1",
        correlation_id="c-1",
    )
    headers = env.to_headers()
    assert headers["Nats-Msg-Id"] == env.message_id
    assert Envelope.from_headers(headers) == env


@pytest.mark.parametrize(
    "headers",
    [
        None,
        {},
        {"Cc-Message-Id": "x"},
        {
            "Cc-Message-Id": "x",
            "Cc-Message-Type": "t",
            "Cc-Origin-Service": "s",
            "Cc-Origin-Instance": "i",
            "Cc-Timestamp": "yesterday",
        },
    ],
)
def test_malformed_envelopes_are_refused(headers: dict[str, str] | None) -> None:
    with pytest.raises(EnvelopeError):
        Envelope.from_headers(headers)


def test_unknown_message_type() -> None:
    with pytest.raises(UnknownMessageType):
        message_class("no.such.thing")


def test_stream_subjects() -> None:
    assert is_stream_subject("cc.agent.a1.state")
    assert is_stream_subject("cc.call.c1.state")
    assert not is_stream_subject("cc.registry.auth.a1.heartbeat")
    assert not is_stream_subject("cc.list.agents.delta")


def test_exported_names() -> None:
    assert sorted(callisto_protocol.__all__) == sorted(
        [
            "Command",
            "Envelope",
            "EnvelopeError",
            "ErrorReply",
            "Event",
            "Message",
            "MessageDecodeError",
            "ProtocolError",
            "Reply",
            "SubjectError",
            "UnknownMessageType",
            "agents",
            "auth",
            "all_message_classes",
            "calls",
            "configuration",
            "contacts",
            "control",
            "deadletters",
            "dialer",
            "help",
            "lists",
            "message_class",
            "new_id",
            "queues",
            "recordings",
            "registry",
            "telephony",
            "tickets",
        ]
    )
    for name in callisto_protocol.__all__:
        assert hasattr(callisto_protocol, name)


def test_a_message_type_cannot_be_declared_twice() -> None:
    from typing import ClassVar

    with pytest.raises(TypeError, match="declared twice"):

        class Impostor(Event):
            message_type: ClassVar[str] = "agent.state"
            subject: ClassVar[str] = "cc.agent.{agent_id}.other"
            agent_id: str


def test_subject_placeholders_must_be_fields() -> None:
    from typing import ClassVar

    with pytest.raises(TypeError, match="not a field"):

        class Broken(Event):
            message_type: ClassVar[str] = "test.broken"
            subject: ClassVar[str] = "cc.test.{missing}.broken"


def test_asyncapi_document_is_current() -> None:
    """docs/asyncapi.json is generated (`make asyncapi`); it must match the code."""
    current = (REPO / "docs" / "asyncapi.json").read_text()
    assert current == render(), "docs/asyncapi.json is stale: run `make asyncapi`"


def test_asyncapi_lists_every_channel_and_reply() -> None:
    doc = json.loads(render())
    addresses = {c["address"] for c in doc["channels"].values()}
    for cls in all_message_classes():
        if not issubclass(cls, Reply):
            assert cls.subject in addresses
    drain = doc["operations"]["control-drain-handle"]
    assert drain["action"] == "receive"
    assert len(drain["reply"]["messages"]) == 2
