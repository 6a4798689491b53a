"""The development suite's outgoing mail, caught: an SMTP server on loopback that writes each message
it receives to ``<folder>/<time>-<n>.eml`` (written whole, then renamed into place). helpdesk's
notifications and customers' confirmation links land there under `callisto up`, where a developer
or a test opens them; nothing leaves the machine.

    python -m callisto_devkit.mailcatcher --port 2526 --folder .callisto/mail
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session


class Catcher:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        content = envelope.content if isinstance(envelope.content, bytes) else str(envelope.content).encode()
        name = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self.count):05}.eml"
        partial = self.folder / f".{name}"
        partial.write_bytes(content)
        partial.rename(self.folder / name)
        return "250 OK"


def caught(folder: Path) -> list[EmailMessage]:
    """Every message caught in ``folder``, oldest first."""
    parser = BytesParser(policy=policy.default)
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = parser.parsebytes(path.read_bytes())
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


async def serve(port: int, folder: Path) -> None:
    catcher = Catcher(folder)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(catcher, hostname="callisto-mail", loop=loop), "127.0.0.1", port
    )
    print(f"catching mail on 127.0.0.1:{port} into {folder}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", type=Path, required=True)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(serve(args.port, args.folder))


if __name__ == "__main__":
    main()
