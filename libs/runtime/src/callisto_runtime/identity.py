"""A service's own identity: its service account logs in over the bus (``IssueServiceToken``) and the
token is kept and renewed before it expires. Commands the service sends carry it unless they act on
a user's behalf with the user's token."""

from __future__ import annotations

import asyncio
import time

from callisto_protocol.auth import IssueServiceToken, ServiceToken
from callisto_runtime.bus import Bus

RENEW_AT = 0.7  # of the token's life


class ServiceIdentity:
    def __init__(self, bus: Bus, client_id: str, secret: str) -> None:
        self.bus = bus
        self.client_id = client_id
        self._secret = secret
        self._token: str | None = None
        self._renew_at = float("-inf")
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        """A valid access token of this service (logs in when there is none or it is getting old).
        Raises what ``Bus.call`` raises when auth cannot be reached, RemoteError when refused."""
        if self._token is not None and time.monotonic() < self._renew_at:
            return self._token
        async with self._lock:
            if self._token is None or time.monotonic() >= self._renew_at:
                reply = await self.bus.call(
                    IssueServiceToken(client_id=self.client_id, client_secret=self._secret),
                    ServiceToken,
                    anonymous=True,
                )
                self._token = reply.access_token
                self._renew_at = time.monotonic() + reply.expires_in * RENEW_AT
            return self._token

    def forget(self) -> None:
        """Drop the token (e.g. after the account's secret was rotated): the next use logs in again."""
        self._token = None
