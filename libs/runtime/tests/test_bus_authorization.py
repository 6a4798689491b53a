"""Commands are authorised by the access token in their envelope, verified locally by the receiver."""

from __future__ import annotations

import pytest
from bus_testing import Ping, Pong, connected_bus, metric

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.servers import NatsServer
from callisto_protocol import Envelope
from callisto_runtime import RemoteError
from callisto_runtime.identity import ServiceIdentity
from callisto_runtime.settings import DEVELOPMENT_SECRET
from callisto_runtime.tokens import TokenVerifier

pytestmark = pytest.mark.integration


async def test_the_permission_is_checked_before_the_handler_runs(nats_server: NatsServer) -> None:
    issuer = TestIssuer()
    handled: list[str | None] = []

    async def handler(command: Ping, env: Envelope) -> Pong:
        handled.append(env.authorization)
        return Pong(n=command.n)

    async with connected_bus(nats_server.url) as server, connected_bus(nats_server.url, "caller") as caller:
        with pytest.raises(RuntimeError):  # a protected command needs a verifier
            await server.serve(Ping, handler, permission="test.ping")
        server.verifier = TokenVerifier(issuer=issuer.issuer, audience=issuer.audience, jwks=issuer.jwks())
        await server.serve(Ping, handler, permission="test.ping.{n}")  # placeholders from the command
        await server.nc.flush()

        async def refused(token: str | None, n: int = 1) -> str:
            with pytest.raises(RemoteError) as error:
                await caller.call(Ping(n=n), Pong, token=token)
            return error.value.error_id

        assert await refused(None) == "token-invalid"
        assert await refused("garbage") == "token-invalid"
        assert await refused(issuer.token("test.ping.1", ttl_s=-60)) == "token-expired"
        assert await refused(TestIssuer().token("#")) == "token-invalid"  # signed by another key
        assert await refused(issuer.token("test.ping.2")) == "permission-denied"
        assert handled == []
        assert metric(
            server, "callisto_bus_rejected_total", message_type="test.ping", error_id="permission-denied"
        )

        assert await caller.call(Ping(n=2), Pong, token=issuer.token("test.ping.2")) == Pong(n=2)
        own = issuer.token("test.ping.*")

        async def own_token() -> str:
            return own

        caller.token_source = own_token  # without a token of its own, a caller sends its instance's
        assert await caller.call(Ping(n=5), Pong) == Pong(n=5)
        assert handled[-1] == own
        with pytest.raises(RemoteError):
            await caller.call(Ping(n=5), Pong, anonymous=True)


async def test_a_service_identity_logs_in_once_and_keeps_its_token(nats_server: NatsServer) -> None:
    issuer = TestIssuer({"caller": ["test.#"]})
    await issuer.start(nats_server.url)
    try:
        async with connected_bus(nats_server.url, "caller") as bus:
            identity = ServiceIdentity(bus, "caller", DEVELOPMENT_SECRET)
            first = await identity.token()
            assert await identity.token() is first  # kept until 70 % of its life
            identity.forget()
            assert await identity.token() != first
            wrong = ServiceIdentity(bus, "caller", "not-the-secret")
            with pytest.raises(RemoteError) as refused:
                await wrong.token()
            assert refused.value.error_id == "bad-client-secret"
    finally:
        await issuer.stop()
