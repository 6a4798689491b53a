"""Bus commands of auth: thin, each calls the accounts or the directory."""

from __future__ import annotations

from callisto_auth.accounts import Accounts
from callisto_auth.directory import Directory
from callisto_protocol import Envelope
from callisto_protocol.auth import (
    GetJwks,
    GetSipCredentials,
    IssueServiceToken,
    Jwks,
    ServiceToken,
    SipCredentials,
)
from callisto_runtime import Bus


async def subscribe(bus: Bus, accounts: Accounts, directory: Directory) -> None:
    async def get_jwks(_: GetJwks, __: Envelope) -> Jwks:
        return Jwks(keys=accounts.jwks()["keys"])

    async def service_token(command: IssueServiceToken, env: Envelope) -> ServiceToken:
        source = f"bus:{env.origin_service}/{env.origin_instance}"
        return await accounts.service_login(command.client_id, command.client_secret, source)

    async def sip_credentials(command: GetSipCredentials, _: Envelope) -> SipCredentials:
        user = await directory.sip_credentials(command.username)
        return SipCredentials(
            username=user.login,
            realm=user.sip_realm or "",
            ha1_md5=user.sip_ha1_md5 or "",
            ha1_sha256=user.sip_ha1_sha256 or "",
            user_id=user.id,
            agent_id=user.agent_id,
        )

    await bus.serve(GetJwks, get_jwks, permission=None)  # public keys
    await bus.serve(IssueServiceToken, service_token, permission=None)  # the login itself
    await bus.serve(GetSipCredentials, sip_credentials, permission="auth.sip-credentials.read")
