"""The whole suite as `make run` starts it (callisto_devkit.running), and a person's token from it."""

from __future__ import annotations

import httpx

from callisto_devkit.running import callisto, running_suite
from callisto_devkit.suite import SuiteState

__all__ = ["bearer", "callisto", "running_suite"]


def bearer(state: SuiteState, username: str) -> dict[str, str]:
    reply = httpx.post(
        f"{state.urls['auth']}/api/v1/token",
        json={"username": username, "password": "callisto"},  # the demo accounts
        timeout=10,
    )
    assert reply.status_code == 200, reply.text
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}
