"""``lsxfel``: summarise EuXFEL files, runs and proposals."""

from ._unbuilt import not_built


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``lsxfel``."""
    not_built("lsxfel", "validation, catalogue verification and lsxfel")
