"""Generate the AsyncAPI 3.0 catalogue of the bus from the declared message classes.

python -m callisto_protocol.asyncapi [OUTPUT]      (default: print to stdout)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import callisto_protocol
from callisto_protocol import envelope
from callisto_protocol.messages import Command, ErrorReply, Message, Reply, all_message_classes
from callisto_protocol.streams import EVENTS_STREAM, is_stream_subject

ASYNCAPI_VERSION = "3.0.0"


def _headers_schema() -> dict[str, Any]:
    names = [
        envelope.MESSAGE_ID,
        envelope.MESSAGE_TYPE,
        envelope.ORIGIN_SERVICE,
        envelope.ORIGIN_INSTANCE,
        envelope.TIMESTAMP,
    ]
    props: dict[str, Any] = {name: {"type": "string"} for name in names}
    props[envelope.TIMESTAMP]["format"] = "date-time"
    props[envelope.CORRELATION_ID] = {"type": "string", "description": "the call id where there is one"}
    props[envelope.NATS_MSG_ID] = {"type": "string", "description": "equals Cc-Message-Id"}
    props[envelope.AUTHORIZATION] = {
        "type": "string",
        "description": "commands: the sender's access token (JWT), checked against the command's permission",
    }
    return {"type": "object", "required": names, "properties": props}


def _channel_id(cls: type[Message]) -> str:
    return cls.message_type.replace(".", "-")


def build() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}

    def add_message(cls: type[Message]) -> dict[str, str]:
        schema = cls.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in schema.pop("$defs", {}).items():
            schemas[name] = sub
        schemas[cls.__name__] = schema
        messages[cls.__name__] = {
            "name": cls.message_type,
            "title": cls.__name__,
            "summary": (cls.__doc__ or "").strip().split("\n\n")[0].replace("\n", " "),
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/Envelope"},
            "payload": {"$ref": f"#/components/schemas/{cls.__name__}"},
            **({"deprecated": True} if cls.deprecated else {}),
        }
        return {"$ref": f"#/components/messages/{cls.__name__}"}

    schemas["Envelope"] = _headers_schema()
    error_ref = add_message(ErrorReply)
    for cls in all_message_classes():
        if issubclass(cls, Reply):
            continue
        ref = add_message(cls)
        params = {
            name: {"description": f"the message's `{name}` field (one subject token)"}
            for name in cls.subject_params()
        }
        channel: dict[str, Any] = {"address": cls.subject, "messages": {cls.__name__: ref}}
        if params:
            channel["parameters"] = params
        if is_stream_subject(cls.subject):
            channel["description"] = f"kept by JetStream stream {EVENTS_STREAM}"
        channels[_channel_id(cls)] = channel
        operation: dict[str, Any] = {
            "action": "receive" if issubclass(cls, Command) else "send",
            "channel": {"$ref": f"#/channels/{_channel_id(cls)}"},
            "messages": [{"$ref": f"#/channels/{_channel_id(cls)}/messages/{cls.__name__}"}],
        }
        if issubclass(cls, Command):
            reply_cls = cls.reply_type
            reply_ref = add_message(reply_cls)
            reply_channel = f"{_channel_id(cls)}-reply"
            channels[reply_channel] = {
                "address": None,
                "messages": {reply_cls.__name__: reply_ref, "ErrorReply": error_ref},
            }
            operation["reply"] = {
                "channel": {"$ref": f"#/channels/{reply_channel}"},
                "messages": [
                    {"$ref": f"#/channels/{reply_channel}/messages/{reply_cls.__name__}"},
                    {"$ref": f"#/channels/{reply_channel}/messages/ErrorReply"},
                ],
            }
        operations[cls.message_type.replace(".", "-") + ("-handle" if issubclass(cls, Command) else "")] = (
            operation
        )
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": "Callisto bus",
            "version": _version(),
            "description": "Every message that crosses the Callisto NATS bus. Generated from "
            "libs/protocol; do not edit by hand.",
        },
        "defaultContentType": "application/json",
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {"messages": dict(sorted(messages.items())), "schemas": dict(sorted(schemas.items()))},
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("callisto-protocol")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0"


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args:
        Path(args[0]).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


assert callisto_protocol  # every family is registered by importing the package

if __name__ == "__main__":
    raise SystemExit(main())
