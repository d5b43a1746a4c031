"""Reading one file in a crawler worker process.

Whatever goes wrong with a file, the worker returns a value: a
:class:`~extra_catalog.records.FileRecord`, or a
:class:`~extra_catalog.records.ProblemRecord` saying why the file could not
be read. The crawl never stops because of one bad file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..exceptions import DataFileError, ExtraCatalogError, FileStructureError
from ..records import FileRecord, ProblemRecord

if TYPE_CHECKING:
    from ..fileaccess.rawview import RawFileView

__all__ = ["read_file", "problem_for", "storable_record"]


def problem_for(path: str, exc: BaseException) -> ProblemRecord:
    """Describe why *path* could not be read, as a problem record."""
    if isinstance(exc, DataFileError):
        check = "unreadable"
        message = exc.problem
    elif isinstance(exc, FileStructureError):
        check = "not_euxfel"
        message = str(exc)
    elif isinstance(exc, ExtraCatalogError):
        check = "unreadable"
        message = str(exc)
    else:
        # Not one of ours: a damaged file can make h5py fail in odd ways.
        check = "unreadable"
        message = f"unexpected {type(exc).__name__} while reading: {exc}"
    if not message.startswith(path):
        message = f"{path}: {message}"
    return ProblemRecord(check=check, message=message)


def _storable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\0" not in text


def _escaped(text: str) -> str:
    """*text* with undecodable bytes and NULs written as backslash escapes."""
    raw = text.encode("utf-8", "surrogateescape")
    return raw.decode("utf-8", "backslashreplace").replace("\0", "\\x00")


def _names(record: FileRecord) -> Iterator[str]:
    """The strings that identify things: source, key, legacy and METADATA names."""
    yield from (name for pair in record.legacy_sources for name in pair)
    yield from (name for name, _ in record.metadata)
    for src in record.sources:
        yield src.name
        yield from (g.name for g in src.index_groups)
        yield from (k.name for k in src.keys)
        yield from (v.key for v in src.run_values)


def _clean_value(value: object) -> object:
    return _escaped(value) if isinstance(value, str) and not _storable(value) else value


def storable_record(record: FileRecord) -> FileRecord | str:
    """The record made storable in any database, or the offending name.

    Text values (RUN strings, attributes, METADATA values) that are not
    valid UTF-8 or contain NUL are kept with backslash escapes, as a person
    would want to read them. A *name* that is not valid UTF-8 means damaged
    METADATA or groups: it is returned, so the file is recorded as unreadable.
    """
    for name in _names(record):
        if not _storable(name):
            return name
    sources = tuple(dataclasses.replace(
        src,
        keys=tuple(dataclasses.replace(k, attrs=tuple((a, _clean_value(v)) for a, v in k.attrs))
                   for k in src.keys),
        run_values=tuple(dataclasses.replace(v, value=_clean_value(v.value),
                                             summary=_clean_value(v.summary))
                         for v in src.run_values))
        for src in record.sources)
    metadata = tuple((name, _clean_value(value)) for name, value in record.metadata)
    return dataclasses.replace(record, sources=sources, metadata=metadata)


def _validation_checks(view: RawFileView, record: FileRecord) -> list[ProblemRecord]:
    from ..validation.checks import FileContext, run_file_checks

    return run_file_checks(FileContext(record, view))


def read_file(path: str) -> FileRecord | ProblemRecord:
    """Read the catalogue record of one file (run in a worker process).

    The validation checks (``extra-data-validate``'s) run while the file is
    open; their problems are the record's ``problems``, so the catalogue
    answers "which runs have bad INDEX" without reading a file again.
    """
    from ..fileaccess.file_access import read_record

    try:
        # Always from disk: a worker may have seen an older state of the file.
        record = read_record(path, checks=_validation_checks)
    except Exception as exc:  # noqa: BLE001 - a bad file becomes a recorded problem
        return problem_for(path, exc)
    cleaned = storable_record(record)
    if isinstance(cleaned, str):
        return ProblemRecord("unreadable", f"{path}: the name {cleaned!r} in the file is not "
                             "valid UTF-8 or contains NUL (damaged METADATA or groups?)")
    return cleaned
