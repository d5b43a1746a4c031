"""``karabo-bridge-serve-run`` and ``karabo-bridge-serve-files``."""

from ._unbuilt import not_built


def serve_run_main(argv: list[str] | None = None) -> None:
    """Entry point of ``karabo-bridge-serve-run``."""
    not_built("karabo-bridge-serve-run", "Karabo-bridge streaming over ZeroMQ")


def serve_files_main(argv: list[str] | None = None) -> None:
    """Entry point of ``karabo-bridge-serve-files``."""
    not_built("karabo-bridge-serve-files", "Karabo-bridge streaming over ZeroMQ")
