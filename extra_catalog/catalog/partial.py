"""Loading a catalogued run in two steps: its files now, its sources' details when used.

Opening a run needs each file's train IDs, validity flags and source names,
not the keys, INDEX arrays and RUN values of its ~2,000 file sources (a
528-file run stores ~10,000 RUN values). :func:`load_run_outline` leaves
those out; :func:`load_source_details` fetches them for the sources a user
actually touches, in a few statements whatever the number of files.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, text

from ._read import load_run_record
from .models import RunOutline
from .outline import OUTLINE_FORMAT, OutlineError
from .outlineview import decode_outline
from .records import RunRecord
from .sourcerows import FileSources, RecordCache, fetch_source_details
from .store import RunKey, Target, _require_run, _unit

__all__ = ["FileSources", "load_run_outline", "load_source_details"]


def load_run_outline(target: Target, key: RunKey) -> RunRecord:
    """A run's records with name-and-section :class:`SourceRecord` objects only.

    Everything else (files, train IDs, validity, METADATA, legacy names,
    problems) is as :func:`~extra_catalog.catalog.load_run` gives it.

    Raises
    ------
    CatalogError
        The run is not in the catalogue.
    """
    with _unit(target, write=False) as session:
        run, proposal = _require_run(session, key)
        stored = session.execute(select(RunOutline.format, RunOutline.blob)
                                 .where(RunOutline.run_id == run.id)).first()
        if stored is not None and stored.format == OUTLINE_FORMAT:
            try:
                return decode_outline(stored.blob)
            except OutlineError:
                pass  # damaged: the tables are the truth
        return load_run_record(session, run, proposal, details=False)


def load_source_details(target: Target, key: str | os.PathLike[str],
                        source: str | None = None,
                        cache: RecordCache | None = None) -> dict[str, FileSources]:
    """Complete records of one source (default: every source) in the files of a run.

    :func:`~extra_catalog.catalog.sourcerows.fetch_source_details` run in a
    session of *target* (a Catalog or Session); *key* is the run
    directory, *source*, *cache* and the result are as there.
    """
    with _unit(target, write=False) as session:
        connection = session.connection()

        def execute(sql: str, params: dict[str, Any]) -> Sequence[Any]:
            return connection.execute(_statement(sql), params).all()

        return fetch_source_details(execute, key, source, cache=cache)


@functools.lru_cache(maxsize=64)
def _statement(sql: str) -> Any:
    return text(sql)
