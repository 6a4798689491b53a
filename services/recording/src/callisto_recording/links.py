"""Play links: an ``<audio>`` element sends no Authorization header, so a person allowed to listen
gets a link signed for them (HMAC-SHA256 over the recording, format, person and expiry with a key
every instance shares); the link serves Range requests like the audio route until it expires, and
each listen through it is written down under that person's name."""

from __future__ import annotations

import hashlib
import hmac
import os
import time

from callisto_runtime.database import Database

TTL_S = 3600  # long enough to listen to a long call, seeking back and forth


class LinkSigner:
    def __init__(self, database: Database) -> None:
        self.db = database
        self._secret: bytes | None = None

    async def secret(self) -> bytes:
        if self._secret is None:
            await self.db.pool.execute(
                "INSERT INTO link_key (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING", os.urandom(32)
            )
            self._secret = bytes(await self.db.pool.fetchval("SELECT secret FROM link_key WHERE id = 1"))
        return self._secret

    async def sign(
        self, recording_id: str, format: str, subject: str, now: float | None = None
    ) -> tuple[int, str]:
        expires = int((now or time.time()) + TTL_S)
        return expires, self._mac(await self.secret(), recording_id, format, subject, expires)

    async def valid(self, recording_id: str, format: str, subject: str, expires: int, signature: str) -> bool:
        if expires < time.time():
            return False
        wanted = self._mac(await self.secret(), recording_id, format, subject, expires)
        return hmac.compare_digest(wanted, signature)

    @staticmethod
    def _mac(secret: bytes, recording_id: str, format: str, subject: str, expires: int) -> str:
        message = f"{recording_id}\n{format}\n{subject}\n{expires}".encode()
        return hmac.new(secret, message, hashlib.sha256).hexdigest()
