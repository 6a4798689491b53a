"""Who may use which subjects on NATS, derived from the message classes (no I/O).

Each service connects as its own NATS user. It may publish the events it is the declared publisher
of, send any command (the receiver checks the token it carries), answer the commands it received
(``allow_responses``) and use JetStream; it may subscribe to every event, to the commands addressed
to it, and to its own reply inbox (``_INBOX_<service>``), so that no service reads another's
replies. The suite's configuration (``callisto up``, the deploy files) turns this into NATS users.
"""

from __future__ import annotations

import re
from typing import Any

from callisto_protocol.configuration import CONFIG_BUCKET
from callisto_protocol.messages import Command, Event, all_message_classes
from callisto_protocol.streams import LEASES_BUCKET, REGISTRY_BUCKET

_PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")
# JetStream's API, acknowledgements and flow control: every service uses streams and consumers
JETSTREAM = ("$JS.API.>", "$JS.ACK.>", "$JS.FC.>")
# a stream snapshot's acknowledgements and a restore's chunks: backups (core-bus's, the tool's)
SNAPSHOTS = ("$JS.SNAPSHOT.>",)
REGISTRY_WRITER = "core-bus"
CONTROL_SENDER = "core-bus"
BACKUP_TOOL = "callisto-backup"  # the NATS user of `callisto backup` and `callisto restore`


def inbox_prefix(service: str) -> str:
    """The reply inbox of ``service``'s connections."""
    return f"_INBOX_{service}"


def _pattern(subject: str, **fixed: str) -> str:
    return _PLACEHOLDER_RE.sub(lambda m: fixed.get(m.group(1), "*"), subject)


def published_by(service: str) -> list[str]:
    """Subject patterns of the events ``service`` publishes."""
    subjects: list[str] = []
    for cls in all_message_classes():
        if not issubclass(cls, Event):
            continue
        placeholder = _PLACEHOLDER_RE.fullmatch(cls.publisher)
        if placeholder is not None:
            subjects.append(_pattern(cls.subject, **{placeholder.group(1): service}))
        elif cls.publisher == service:
            subjects.append(_pattern(cls.subject))
    return sorted(set(subjects))


def served_by(service: str) -> list[str]:
    """Subject patterns of the commands addressed to ``service`` (``cc.rpc.<service>.*`` and its
    instances' control commands)."""
    subjects: list[str] = []
    for cls in all_message_classes():
        if not issubclass(cls, Command):
            continue
        pattern = _pattern(cls.subject, service=service)
        if pattern.startswith(f"cc.rpc.{service}.") or (
            "{service}" in cls.subject and pattern.startswith("cc.control.")
        ):
            subjects.append(pattern)
    return sorted(set(subjects))


def all_events() -> list[str]:
    return sorted({_pattern(cls.subject) for cls in all_message_classes() if issubclass(cls, Event)})


def all_commands() -> list[str]:
    return sorted({_pattern(cls.subject) for cls in all_message_classes() if issubclass(cls, Command)})


def observer_permissions(name: str) -> dict[str, Any]:
    """A tool that only watches events (``callisto demo``): reads every event, publishes nothing."""
    return {
        "publish": {"deny": [">"]},
        "subscribe": {"allow": [f"{inbox_prefix(name)}.>", *all_events()]},
    }


def backup_permissions(name: str) -> dict[str, Any]:
    """A tool that backs the suite up and restores it: JetStream's API and snapshots, nothing else."""
    return {
        "publish": {"allow": [*JETSTREAM, *SNAPSHOTS]},
        "subscribe": {"allow": [f"{inbox_prefix(name)}.>"]},
    }


def nats_permissions(service: str) -> dict[str, Any]:
    """The ``permissions`` block of ``service``'s NATS user (nats-server configuration)."""
    # its lease, and its own configuration documents (seeded at first start)
    publish = [*published_by(service), *JETSTREAM, f"$KV.{LEASES_BUCKET}.{service}"]
    publish.append(f"$KV.{CONFIG_BUCKET}.{service}.>")
    commands = all_commands()
    if service != CONTROL_SENDER:
        commands = [c for c in commands if not c.startswith("cc.control.")]
    publish += commands
    if service == REGISTRY_WRITER:
        publish.append(f"$KV.{REGISTRY_BUCKET}.>")
    if service == CONTROL_SENDER:  # scheduled backups; configuration changes through the control API
        publish += [*SNAPSHOTS, f"$KV.{CONFIG_BUCKET}.>"]
    subscribe = [f"{inbox_prefix(service)}.>", *all_events(), *served_by(service)]
    return {
        "publish": {"allow": sorted(set(publish))},
        "subscribe": {"allow": sorted(set(subscribe))},
        "allow_responses": True,
    }
