"""python -m callisto_recording"""

from callisto_recording.app import build
from callisto_runtime import run


def main() -> None:
    service, _, app = build()
    run(service, app)


if __name__ == "__main__":
    main()
