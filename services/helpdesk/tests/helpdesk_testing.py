"""helpdesk under test: in-process, on a NATS and a fresh PostgreSQL database of the test; a real
SMTP server as the mail peer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import httpx
from aiosmtpd.smtp import SMTP, Envelope, Session

from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_helpdesk.app import build
from callisto_helpdesk.book import ContactBook
from callisto_helpdesk.settings import HelpdeskSettings
from callisto_runtime import Mode, Service


@contextlib.asynccontextmanager
async def helpdesk(
    nats_url: str, database_url: str, **overrides: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Service, ContactBook]]:
    port = free_port()
    settings = HelpdeskSettings(
        nats_url=nats_url,
        http_port=port,
        database_url=database_url,
        mode=Mode.DEVELOPMENT,
        **{"intake_smtp_port": 0, **overrides},
    )
    service, book, app = build(settings)
    async with serve_in_process(app, port) as base, httpx.AsyncClient(base_url=base) as http:
        for _ in range(300):
            if (await http.get("/readyz")).status_code == 200:
                break
            await asyncio.sleep(0.05)
        yield http, service, book


class Mailbox:
    """A real SMTP server (aiosmtpd) on a free loopback port, keeping what it receives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[EmailMessage] = []
        self.arrived = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        assert isinstance(envelope.content, bytes)
        mail = BytesParser(policy=policy.default).parsebytes(envelope.content)
        assert isinstance(mail, EmailMessage)
        self.mails.append(mail)
        self.arrived.set()
        return "250 OK"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: SMTP(self, loop=loop), "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.mails if m["To"] == address]

    async def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list[EmailMessage]:
        async with asyncio.timeout(timeout):
            while len(self.to(address)) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return self.to(address)


@contextlib.asynccontextmanager
async def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    await box.start()
    try:
        yield box
    finally:
        await box.stop()


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0, pause: float = 0.1) -> Any:
    """``check()`` once it returns something true (it may raise AssertionError meanwhile)."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                found = await check()
                if found:
                    return found
            except AssertionError:
                pass
            await asyncio.sleep(pause)


async def ticket_when(
    http: httpx.AsyncClient,
    ticket_id: str,
    headers: dict[str, str],
    ready: Callable[[dict[str, Any]], bool],
    timeout: float = 10.0,
) -> dict[str, Any]:
    """The ticket (``GET /api/v1/tickets/{id}``) once ``ready`` holds for it."""

    async def check() -> dict[str, Any] | None:
        found: dict[str, Any] = (await http.get(f"/api/v1/tickets/{ticket_id}", headers=headers)).json()
        return found if ready(found) else None

    result: dict[str, Any] = await eventually(check, timeout)
    return result
