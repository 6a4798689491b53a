"""The local suite: which services exist in this checkout, their ports, and the state file that
records what ``callisto up`` started."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from callisto_devkit.processes import DevkitError, ManagedProcess

# HTTP ports of ARCHITECTURE.md; a service not listed gets the next free one from 8120 on.
SERVICE_PORTS = {
    "core-bus": 8100,
    "auth": 8101,
    "call-manager": 8102,
    "queue-manager": 8103,
    "dialer": 8104,
    "recording": 8105,
    "snitch": 8106,
    "helpdesk": 8107,
}
START_ORDER = list(SERVICE_PORTS)
# active/standby services (``Service(..., singleton=True)``): ``callisto up --ha`` runs two of each
SINGLETONS = frozenset({"core-bus", "queue-manager", "call-manager", "dialer"})
HA_PORT_STEP = 100  # the second instance's HTTP port: the first one's + this


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    module: str
    port: int

    @property
    def singleton(self) -> bool:
        return self.name in SINGLETONS

    @property
    def env_prefix(self) -> str:
        return "CALLISTO_" + self.name.upper().replace("-", "_") + "_"


def repo_root(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "services").is_dir() and (folder / "libs").is_dir():
            return folder
    raise DevkitError("not inside a Callisto checkout (no services/ and libs/ above the current folder)")


def discover_services(root: Path) -> list[ServiceSpec]:
    names = sorted(p.parent.name for p in root.glob("services/*/pyproject.toml"))
    names.sort(key=lambda n: START_ORDER.index(n) if n in START_ORDER else len(START_ORDER))
    specs: list[ServiceSpec] = []
    extra_port = 8120
    for name in names:
        port = SERVICE_PORTS.get(name)
        if port is None:
            port, extra_port = extra_port, extra_port + 1
        specs.append(ServiceSpec(name, "callisto_" + name.replace("-", "_"), port))
    return specs


def postgres_can_reach(path: Path) -> bool:
    """True when every folder above ``path`` lets other users through (PostgreSQL runs as postgres)."""
    for folder in path.resolve().parents:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            return False
    return True


def postgres_data_dir(home: Path) -> Path:
    if os.geteuid() != 0 or postgres_can_reach(home):
        return home / "pg" / "data"
    digest = hashlib.sha256(str(home.resolve()).encode()).hexdigest()[:12]
    return Path("/var/lib/callisto") / digest / "pg" / "data"


def _role(base: str) -> str | None:
    try:
        return str(httpx.get(f"{base}/readyz", timeout=1.0).json().get("role"))
    except (httpx.HTTPError, ValueError):
        return None


@dataclass
class SuiteState:
    home: Path
    processes: list[ManagedProcess] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.home / "state.json"

    @classmethod
    def load(cls, home: Path) -> SuiteState:
        state = cls(home)
        if state.path.exists():
            data = json.loads(state.path.read_text())
            state.processes = [ManagedProcess.from_json(p) for p in data.get("processes", [])]
            state.urls = dict(data.get("urls", {}))
        return state

    def save(self) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        data = {"processes": [p.to_json() for p in self.processes], "urls": self.urls}
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2))
        tmp.replace(self.path)

    def active_urls(self) -> dict[str, str]:
        """``urls`` with each singleton's entry pointing at its active instance (``--ha`` runs two,
        ``name`` and ``name#2``; a switchover may have made the second one active)."""
        found = dict(self.urls)
        for name in SINGLETONS:
            for candidate in (self.urls.get(name), self.urls.get(f"{name}#2")):
                if candidate and _role(candidate) == "active":
                    found[name] = candidate
                    break
        return found

    def clear(self) -> None:
        self.processes.clear()
        self.urls.clear()
        self.path.unlink(missing_ok=True)
