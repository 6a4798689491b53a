"""The HTTP face every service gets from the skeleton."""

from __future__ import annotations

import shutil
import subprocess

import httpx
import pytest
from bus_testing import eventually
from fastapi import APIRouter
from pydantic import BaseModel, ValidationError

from callisto_devkit.processes import free_port
from callisto_devkit.pytest_plugin import serve_in_process
from callisto_devkit.servers import NatsServer
from callisto_runtime import Mode, NotFound, Service, ServiceSettings

pytestmark = pytest.mark.integration


class Item(BaseModel):
    name: str
    size: int


def service_with_routes(nats_url: str, port: int) -> Service:
    service = Service(
        "probe", "0.0.1", ServiceSettings(nats_url=nats_url, http_port=port, max_body_bytes=4096)
    )
    router = APIRouter(prefix="/api/v1")

    @router.post("/items")
    async def create(item: Item) -> Item:
        return item

    @router.get("/items/{name}")
    async def read(name: str) -> Item:
        raise NotFound(f"no item {name!r}", {"name": name})

    @router.get("/boom")
    async def boom() -> Item:
        raise RuntimeError("bug")

    service.include_router(router)
    return service


async def test_operations_endpoints_and_problem_details(nats_server: NatsServer) -> None:
    port = free_port()
    service = service_with_routes(nats_server.url, port)
    async with serve_in_process(service.create_app(), port) as base, httpx.AsyncClient(base_url=base) as http:
        await eventually(lambda: service.bus.connected)
        assert (await http.get("/healthz")).json()["status"] == "alive"
        ready = (await http.get("/readyz")).json()
        assert ready == {
            "status": "ready",
            "role": "active",
            "checks": {"nats": True},
            "failures": {},
            "service": "probe",
            "instance": service.instance,
        }
        assert (await http.get("/docs")).status_code == 200
        document = (await http.get("/openapi.json")).json()
        assert "/api/v1/items" in document["paths"]
        # every problem an operation can answer is declared, as a problem
        post = document["paths"]["/api/v1/items"]["post"]["responses"]
        assert {"413", "422", "503"} <= set(post)
        assert post["422"]["content"] == {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        }
        assert "404" in document["paths"]["/api/v1/items/{name}"]["get"]["responses"]
        assert "HTTPValidationError" not in document["components"]["schemas"]

        wrong_method = await http.delete("/api/v1/items")
        assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"

        # control characters are refused at the edge, wherever they are
        for bad in (
            http.post("/api/v1/items", content=b'{"name": "a\\u0000b", "size": 1}',
                      headers={"content-type": "application/json"}),
            http.post("/api/v1/items", json={"name": "esc\x1b[31m", "size": 1}),
            http.get("/api/v1/items/a%00b"),
            http.get("/api/v1/items/x", params={"q": "a\x00"}),
        ):  # fmt: skip
            refused = await bad
            assert refused.status_code == 422, refused.text
            assert refused.json()["error_id"] == "control-character"
        escaped_backslash = await http.post(
            "/api/v1/items",
            content=b'{"name": "a\\\\u0000", "size": 1}',
            headers={"content-type": "application/json"},
        )  # a backslash followed by the text u0000: no control character
        assert escaped_backslash.json().get("error_id") != "control-character"
        tab_and_newline = await http.post("/api/v1/items", json={"name": "a\tb\nc", "size": 1})
        assert tab_and_newline.status_code != 422

        missing = await http.get("/api/v1/items/x")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["error_id"] == "not-found" and missing.json()["details"] == {"name": "x"}

        invalid = await http.post("/api/v1/items", json={"name": "x", "size": "big"})
        assert invalid.status_code == 422 and invalid.json()["error_id"] == "invalid-request"
        assert invalid.json()["errors"][0]["loc"] == ["body", "size"]

        huge = await http.post(
            "/api/v1/items", content=b"x" * 10_000, headers={"content-type": "application/json"}
        )
        assert huge.status_code == 413 and huge.json()["error_id"] == "body-too-large"

        async def chunks():  # type: ignore[no-untyped-def]
            for _ in range(10):
                yield b"x" * 1000

        streamed = await http.post(
            "/api/v1/items", content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413

        unexpected = await http.get("/api/v1/boom")
        assert unexpected.status_code == 500 and unexpected.json()["error_id"] == "internal-error"
        assert "bug" not in unexpected.text

        assert (await http.get("/nowhere")).json()["error_id"] == "not-found"

        service.add_check("redis", lambda: False)
        not_ready = await http.get("/readyz")
        assert not_ready.status_code == 503 and not_ready.json()["checks"]["redis"] is False

        async def prepare() -> None:
            raise ValueError("the categories file is not valid")

        await service.background("prepare", prepare)
        failed = (await http.get("/readyz")).json()
        assert failed["checks"]["task:prepare"] is False
        assert failed["failures"] == {"prepare": "ValueError: the categories file is not valid"}

        metrics = (await http.get("/metrics")).text
        assert "callisto_service_ready 0.0" in metrics
        info = f'callisto_service_info{{instance="{service.instance}",service="probe",version="0.0.1"}} 1.0'
        assert info in metrics

    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: the Debian package prometheus is installed by make test")
    checked = subprocess.run([promtool, "check", "metrics"], input=metrics, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_settings_fail_fast() -> None:
    with pytest.raises(ValidationError):
        ServiceSettings(http_port=70000)
    with pytest.raises(ValidationError):
        ServiceSettings(log_level="chatty")
    with pytest.raises(ValidationError):
        ServiceSettings(instance_id="has.dots")
    assert ServiceSettings().mode is Mode.PRODUCTION
