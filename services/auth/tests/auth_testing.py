"""Helpers of auth's tests."""

from __future__ import annotations

import httpx

from callisto_runtime.tokens import TokenVerifier


async def login(http: httpx.AsyncClient, username: str, password: str = "callisto") -> httpx.Response:
    return await http.post("/api/v1/token", json={"username": username, "password": password})


async def verifier_for(http: httpx.AsyncClient) -> TokenVerifier:
    return TokenVerifier(
        issuer="callisto-auth", audience="callisto", jwks=(await http.get("/api/v1/jwks")).json()
    )


async def bearer(http: httpx.AsyncClient, username: str, password: str = "callisto") -> dict[str, str]:
    reply = await login(http, username, password)
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}
