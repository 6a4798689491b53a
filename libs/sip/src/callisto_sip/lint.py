"""``callisto-sip-lint FILE``: parse one SIP message and print its structure as JSON, or exit 1 with
the precise parse error (also as JSON). ``--stream`` frames it as on TCP; ``-`` reads stdin."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from callisto_sip.errors import ParseError
from callisto_sip.headers import NameAddr, Via
from callisto_sip.message import Request, Response, parse_message, parse_stream
from callisto_sip.uri import SipUri, Uri


def uri_json(uri: Uri) -> dict[str, Any]:
    if isinstance(uri, SipUri):
        return {
            "scheme": uri.scheme,
            "user": uri.user,
            "password": uri.password,
            "host": uri.host,
            "port": uri.port,
            "params": uri.params,
            "headers": uri.headers,
            "text": str(uri),
        }
    return {"scheme": uri.scheme, "text": str(uri)}


def address_json(address: NameAddr) -> dict[str, Any]:
    return {"display_name": address.display_name, "uri": uri_json(address.uri), "params": address.params}


def via_json(via: Via) -> dict[str, Any]:
    return {"transport": via.transport, "host": via.host, "port": via.port, "params": via.params}


def describe(message: Request | Response) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(message, Request):
        out.update(kind="request", method=message.method, request_uri=uri_json(message.uri))
    else:
        out.update(kind="response", status=message.status, reason=message.reason)
    cseq = message.cseq
    out.update(
        call_id=message.call_id,
        cseq={"number": cseq.number, "method": cseq.method},
        **{"from": address_json(message.from_)},
        to=address_json(message.to),
        via=[via_json(v) for v in message.vias],
        contact=[address_json(c) for c in message.contacts],
        headers=[[name, value] for name, value in message.headers],
        body_bytes=len(message.body),
        content_type=message.content_type,
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="callisto-sip-lint", description=__doc__)
    parser.add_argument("file", help="a file holding one SIP message (raw bytes), or - for stdin")
    parser.add_argument("--stream", action="store_true", help="frame as over TCP (Content-Length required)")
    args = parser.parse_args(argv)
    data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    try:
        message = parse_stream(data)[0] if args.stream else parse_message(data)
    except ParseError as exc:
        print(
            json.dumps({"valid": False, "error_id": exc.error_id, "status": exc.status, "error": exc.message})
        )
        return 1
    print(json.dumps({"valid": True, **describe(message)}, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
