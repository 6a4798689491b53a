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
            "service": "probe",
            "instance": service.instance,
        }
        assert (await http.get("/docs")).status_code == 200
        assert "/api/v1/items" in (await http.get("/openapi.json")).json()["paths"]

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
