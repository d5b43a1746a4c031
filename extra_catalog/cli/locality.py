"""``extra-data-locality`` and ``extra-data-readable``: dCache storage checks."""

from ._unbuilt import not_built


def locality_main(argv: list[str] | None = None) -> None:
    """Entry point of ``extra-data-locality``."""
    not_built("extra-data-locality", "storage locality and reading that never hangs")


def readable_main(argv: list[str] | None = None) -> None:
    """Entry point of ``extra-data-readable``."""
    not_built("extra-data-readable", "storage locality and reading that never hangs")
