"""The OpenAPI documents of the services the web client calls, written for its generated types:

    .venv/bin/python scripts/openapi.py clients/operator/openapi

Each service's app is built (nothing is started or connected) and its ``openapi()`` written as
sorted JSON; ``tests/test_client_contracts.py`` fails when a committed document is stale.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

CLIENT_USES = ("auth", "core-bus", "queue-manager", "call-manager", "helpdesk", "snitch", "recording")


def document(service: str) -> dict[str, Any]:
    module = importlib.import_module(f"callisto_{service.replace('-', '_')}.app")
    app = module.build()[-1]
    found: dict[str, Any] = app.openapi()
    return found


def text(service: str) -> str:
    return json.dumps(document(service), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for service in CLIENT_USES:
        (folder / f"{service}.json").write_text(text(service))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "clients/operator/openapi"))
