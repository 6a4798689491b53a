"""Write deploy/nats/callisto-users.conf: the NATS users of Callisto's services with the subject
permissions the protocol declares, each password a reference to <SERVICE>_NATS_PASSWORD:

    .venv/bin/python scripts/nats_users.py deploy/nats/callisto-users.conf

``tests/test_deploy_files.py`` fails when the committed file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

from callisto_devkit.servers import nats_users_by_reference
from callisto_devkit.suite import discover_services

ROOT = Path(__file__).resolve().parents[1]
HEADER = """# Callisto's NATS users, one per service, each allowed the subjects its messages declare
# (callisto_protocol.access), written by scripts/nats_users.py: do not edit by hand. Include it in
# the NATS servers' configuration and give each password in the environment variable named beside it
# (the same value as the service's CALLISTO_<SERVICE>_NATS_PASSWORD).
"""


def text() -> str:
    return HEADER + nats_users_by_reference(spec.name for spec in discover_services(ROOT))


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "deploy" / "nats" / "callisto-users.conf"
    target.write_text(text())
