"""python -m callisto_snitch"""

from callisto_runtime import run
from callisto_snitch.app import build


def main() -> None:
    service, _, app = build()
    run(service, app)


if __name__ == "__main__":
    main()
