"""``extra-data-make-virtual-cxi``: a virtual CXI file for a detector run."""

from ._unbuilt import not_built


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``extra-data-make-virtual-cxi``."""
    not_built("extra-data-make-virtual-cxi", "writing selections, virtual datasets and CXI")
