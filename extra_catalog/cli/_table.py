"""Aligned plain-text tables for terminal output."""

from __future__ import annotations

from collections.abc import Sequence


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Return *rows* under *header* as left-aligned columns separated by two spaces.

    ``None`` is shown as ``-``; numbers are right-aligned.
    """
    text_rows = [["-" if v is None else str(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in text_rows]) for i, h in enumerate(header)]
    numeric = [any(row[i] is not None for row in rows)
               and all(isinstance(row[i], (int, float)) for row in rows if row[i] is not None)
               for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)]
        return "  ".join(parts).rstrip()

    return "\n".join([line(list(header))] + [line(r) for r in text_rows])
