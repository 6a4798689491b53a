"""python -m callisto_helpdesk"""

from callisto_helpdesk.app import build
from callisto_runtime import run


def main() -> None:
    service, _, app = build()
    run(service, app)


if __name__ == "__main__":
    main()
