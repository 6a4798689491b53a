"""python -m callisto_auth"""

from callisto_auth.app import build
from callisto_runtime import run


def main() -> None:
    service, _, app = build()
    run(service, app)


if __name__ == "__main__":
    main()
