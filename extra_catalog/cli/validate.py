"""``extra-data-validate``: check EuXFEL files and runs for format problems."""

from ._unbuilt import not_built


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``extra-data-validate``."""
    not_built("extra-data-validate", "validation, catalogue verification and lsxfel")
