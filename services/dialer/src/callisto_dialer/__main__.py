"""python -m callisto_dialer: the service."""

from __future__ import annotations

from callisto_dialer.app import build
from callisto_runtime import run


def main() -> None:
    service, _, app = build()
    run(service, app)


if __name__ == "__main__":
    main()
