"""Bus commands of auth: thin, each calls the accounts."""

from __future__ import annotations

from callisto_auth.accounts import Accounts
from callisto_protocol import Envelope
from callisto_protocol.auth import GetJwks, Jwks
from callisto_runtime import Bus


async def subscribe(bus: Bus, accounts: Accounts) -> None:
    async def get_jwks(_: GetJwks, __: Envelope) -> Jwks:
        return Jwks(keys=accounts.jwks()["keys"])

    await bus.serve(GetJwks, get_jwks)
