"""core-bus passes /svc/<service>/api/... on to a ready instance of that service (a real one, found
through its heartbeats on a real NATS server) and the answer back as it came; it serves the operator
client's build and tells it where its phone registers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from core_bus_testing import BEAT, core_bus, eventually
from fastapi import APIRouter, Header, Request
from pydantic import BaseModel

from callisto_devkit.issuer import TestIssuer
from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer
from callisto_runtime import CallistoError, Service, ServiceSettings

pytestmark = pytest.mark.integration


class Echo(BaseModel):
    method: str
    path: str
    query: str
    authorization: str | None
    body: str


class Missing(CallistoError):
    status = 404
    error_id = "no-such-thing"


@contextlib.asynccontextmanager
async def echo_service(nats_url: str) -> AsyncIterator[Service]:
    """A service whose API echoes what reached it, and answers a problem on /api/v1/missing."""
    port = free_port()
    service = Service(
        "echo", "1.0", ServiceSettings(nats_url=nats_url, http_port=port, heartbeat_interval_s=BEAT)
    )
    api = APIRouter(prefix="/api/v1")

    @api.api_route("/echo/{rest:path}", methods=["GET", "POST", "DELETE"], summary="What came")
    async def echo(rest: str, request: Request, authorization: str | None = Header(default=None)) -> Echo:
        body = (await request.body()).decode()
        return Echo(
            method=request.method,
            path=rest,
            query=str(request.query_params),
            authorization=authorization,
            body=body,
        )

    @api.get("/missing", summary="Always a problem")
    async def missing() -> Echo:
        raise Missing("nothing here", {"what": "missing"})

    service.include_router(api)
    async with serve_in_process(service.create_app(), port):
        yield service


async def test_requests_reach_the_service_with_the_persons_token_and_come_back_as_they_were(
    private_nats: NatsServer, token_issuer: TestIssuer
) -> None:
    async with core_bus(private_nats.url, token_issuer) as (http, _), echo_service(private_nats.url):

        async def ready() -> bool:
            return (await http.get("/svc/echo/api/v1/echo/x")).status_code == 200

        await eventually(ready, what="the echo service known and ready")
        async with httpx.AsyncClient(base_url=str(http.base_url)) as browser:  # no token of core-bus's
            asked = await browser.get(
                "/svc/echo/api/v1/echo/a/b?n=1&m=two",
                headers={"Authorization": "Bearer person", "Cookie": "x=1"},
            )
            assert asked.status_code == 200
            assert asked.json() == {
                "method": "GET", "path": "a/b", "query": "n=1&m=two", "authorization": "Bearer person",
                "body": "",
            }  # fmt: skip
            posted = await browser.post("/svc/echo/api/v1/echo/c", json={"k": "v"})
            assert (posted.json()["method"], posted.json()["body"]) == ("POST", '{"k":"v"}')
            problem = await browser.get("/svc/echo/api/v1/missing")
            assert problem.status_code == 404
            assert problem.headers["content-type"] == "application/problem+json"
            assert problem.json()["error_id"] == "no-such-thing"
            nobody = await browser.get("/svc/nobody/api/v1/echo/x")
            assert (nobody.status_code, nobody.json()["error_id"]) == (503, "no-ready-instance")
            assert (await browser.get("/svc/echo/metrics")).status_code == 404  # only api/ is passed on
            too_big = await browser.post("/svc/echo/api/v1/echo/big", content=b"x" * ((1 << 20) + 1))
            assert (too_big.status_code, too_big.json()["error_id"]) == (413, "body-too-large")


async def test_core_bus_serves_the_client_its_assets_and_its_settings(
    private_nats: NatsServer, token_issuer: TestIssuer, tmp_path: Path
) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "app.js").write_text("console.log('hi')")
    crm = "https://crm.example/card?phone={caller}&contact={contact_id}"
    overrides = {
        "client_dir": tmp_path, "client_sip_url": "wss://pbx.example:7443", "client_crm_url": crm,
        "client_wallboard_url": "http://board.example:8106/wallboard",
    }  # fmt: skip
    async with (
        core_bus(private_nats.url, token_issuer, **overrides) as (http, _),
        httpx.AsyncClient(base_url=str(http.base_url)) as browser,
    ):
        assert (await browser.get("/")).json()["error_id"] == "client-not-built"  # no index.html yet
        (tmp_path / "index.html").write_text("<!doctype html><title>Callisto</title>")
        page = await browser.get("/")
        assert page.status_code == 200 and "Callisto" in page.text
        assert (await browser.get("/assets/app.js")).text == "console.log('hi')"
        unknown = await browser.get("/api/v1/nothing-here")
        assert unknown.headers["content-type"] == "application/problem+json"  # the API's 404, not a file
        assert (await browser.get("/api/v1/client")).status_code == 401
        settings = await browser.get("/api/v1/client", headers=token_issuer.bearer(subject="operator1"))
        assert settings.json() == {
            "sip_url": "wss://pbx.example:7443", "crm_url": crm,
            "wallboard_url": "http://board.example:8106/wallboard",
        }  # fmt: skip
