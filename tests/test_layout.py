"""The layout ARCHITECTURE.md draws: services import libs only, and each has its fixed rooms."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.parent for p in ROOT.glob("services/*/pyproject.toml"))
SERVICE_PACKAGES = {"callisto_" + s.name.replace("-", "_") for s in SERVICES}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_there_are_services() -> None:
    assert SERVICES, "no service found under services/"


@pytest.mark.parametrize("service", SERVICES, ids=lambda p: p.name)
def test_a_service_never_imports_another_service(service: Path) -> None:
    own = "callisto_" + service.name.replace("-", "_")
    for path in service.rglob("*.py"):
        foreign = (imported_roots(path) & SERVICE_PACKAGES) - {own}
        assert not foreign, f"{path.relative_to(ROOT)} imports {sorted(foreign)}: use the bus or HTTP"


@pytest.mark.parametrize("lib", sorted(ROOT.glob("libs/*/src")), ids=lambda p: p.parent.name)
def test_libraries_never_import_services(lib: Path) -> None:
    for path in lib.rglob("*.py"):
        assert not imported_roots(path) & SERVICE_PACKAGES, f"{path.relative_to(ROOT)} imports a service"


@pytest.mark.parametrize("service", SERVICES, ids=lambda p: p.name)
def test_a_service_has_its_fixed_rooms(service: Path) -> None:
    package = service / "src" / ("callisto_" + service.name.replace("-", "_"))
    for room in ("__main__.py", "settings.py", "app.py", "errors.py", "handlers.py", "notifier.py"):
        assert (package / room).is_file(), f"{service.name} lacks {room}"
    assert (service / "README.md").is_file()
    assert any((service / "tests").glob("test_*.py"))


def test_protocol_does_no_io() -> None:
    banned = {"asyncio", "socket", "nats", "redis", "asyncpg", "httpx", "subprocess"}
    for path in (ROOT / "libs/protocol/src").rglob("*.py"):
        assert not imported_roots(path) & banned, f"{path.relative_to(ROOT)} does I/O"
