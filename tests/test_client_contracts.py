"""The web client's API types are generated from the services' OpenAPI documents committed in
clients/operator/openapi; this fails when one of them no longer says what the service serves
(run ``.venv/bin/python scripts/openapi.py clients/operator/openapi`` and rebuild the client)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]
WRITER = runpy.run_path(str(ROOT / "scripts/openapi.py"))


@pytest.mark.parametrize("service", WRITER["CLIENT_USES"])
def test_the_clients_openapi_documents_are_current(service: str) -> None:
    committed = (ROOT / "clients/operator/openapi" / f"{service}.json").read_text()
    assert committed == WRITER["text"](service), f"clients/operator/openapi/{service}.json is stale"
