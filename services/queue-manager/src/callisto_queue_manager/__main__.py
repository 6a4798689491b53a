"""python -m callisto_queue_manager"""

from callisto_queue_manager.app import build
from callisto_runtime import run


def main() -> None:
    service, _, app = build()
    run(service, app)


if __name__ == "__main__":
    main()
