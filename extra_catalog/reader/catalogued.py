"""A run opened from its catalogue outline, its per-file objects made when first used.

Opening a whole, unchanged catalogued run needs no per-file object at all:
the run's train IDs, source names and sections come from the outline. The
:class:`~extra_catalog.FileAccess` of a file is made when a source it holds
is first used (``run[source]``, a selection, ``run.files``...), and the
:class:`SourceData` of a source when it is first looked up. Reading one
detector module of a 500-file run thus builds 32 file objects, not 500;
walking every source builds them all, as an eager open would have.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..catalog.outlineview import Outline
from ..fileaccess import FileAccess
from .gcpause import gc_paused

if TYPE_CHECKING:
    from ..fileaccess.file_access import SourceDetails
    from .sourcedata import SourceData

__all__ = ["CataloguedRun", "LazySources"]


class CataloguedRun:
    """The files of a run as its outline describes them, each made on first use.

    Parameters
    ----------
    outline : Outline
        The run's outline, matching its directory (whole run, unchanged).
    details : callable
        Completes the sources of the files (see :meth:`FileAccess.from_record`).
    """

    def __init__(self, outline: Outline, details: SourceDetails | None) -> None:
        self.outline = outline
        self._details = details
        self._made: list[FileAccess | None] = [None] * len(outline)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._made)

    def files(self, positions: Sequence[int]) -> list[FileAccess]:
        """The FileAccess of the files at *positions* (made once, then kept)."""
        made = self._made
        missing = [i for i in positions if made[i] is None]
        if missing:
            with self._lock, gc_paused():  # (file objects, all kept)
                missing = [i for i in missing if made[i] is None]
                built = FileAccess.from_records(self.outline.records(missing), self._details)
                for i, fa in zip(missing, built):
                    made[i] = fa
        return [made[i] for i in positions]  # type: ignore[misc]

    def all_files(self) -> list[FileAccess]:
        """Every file of the run, in name order."""
        return self.files(range(len(self._made)))

    def made_files(self) -> list[FileAccess]:
        """The files made so far (the ones that may have been opened)."""
        return [f for f in self._made if f is not None]


class LazySources(Mapping[str, "SourceData"]):
    """The control and instrument sources of a catalogued run, made when looked up.

    A read-only mapping of source name to :class:`SourceData` (all keys,
    the given train IDs), equal in content to what
    ``DataCollection._sources_from_files`` builds from every file. The run
    must have no legacy source names.
    """

    def __init__(self, run: CataloguedRun, train_ids: np.ndarray, *, is_single_run: bool,
                 inc_suspect_trains: bool) -> None:
        self._run = run
        self._sections = {name: section for name, section
                          in run.outline.source_sections().items()
                          if section in ("CONTROL", "INSTRUMENT")}
        self._tids = train_ids
        self._flags = {"is_single_run": is_single_run, "inc_suspect_trains": inc_suspect_trains}
        self._made: dict[str, SourceData] = {}

    def sections(self) -> dict[str, str]:
        """``{source name: section}``, without making any SourceData."""
        return self._sections

    def __getitem__(self, name: str) -> SourceData:
        found = self._made.get(name)
        if found is None:
            from .sourcedata import SourceData

            section = self._sections[name]  # KeyError: no such source
            positions = self._run.outline.positions_of(name)
            made = SourceData._of_run({(name, section): self._run.files(positions)}, {},
                                      self._tids, **self._flags)
            found = self._made.setdefault(name, made[name])
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._sections

    def __iter__(self) -> Iterator[str]:
        return iter(self._sections)

    def __len__(self) -> int:
        return len(self._sections)

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled as the plain dict it stands for (every source made).
        return (dict, (dict(self.items()),))
