"""Reading one file in a crawler worker process.

Whatever goes wrong with a file, the worker returns a value: a
:class:`~extra_catalog.records.FileRecord`, or a
:class:`~extra_catalog.records.ProblemRecord` saying why the file could not
be read. The crawl never stops because of one bad file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from ..exceptions import DataFileError, ExtraCatalogError, FileStructureError
from ..records import FileRecord, ProblemRecord

__all__ = ["read_file", "problem_for"]


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


def _texts(value: object) -> Iterator[str]:
    """Every string inside a record (names, dtypes, attribute values...)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _texts(item)
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from _texts(getattr(value, f.name))


def bad_text(record: FileRecord) -> str | None:
    """A string of the record that no database can store, if there is one.

    Damaged METADATA decodes (with ``surrogateescape``) to names that are
    not valid UTF-8, and PostgreSQL refuses NUL characters in text.
    """
    for text in _texts(record):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return text
        if "\0" in text:
            return text
    return None


def read_file(path: str) -> FileRecord | ProblemRecord:
    """Read the catalogue record of one file (run in a worker process)."""
    from ..fileaccess import FileAccess

    try:
        fa = FileAccess(path)
    except Exception as exc:  # noqa: BLE001 - a bad file becomes a recorded problem
        return problem_for(path, exc)
    try:
        record = fa.to_record()
    except Exception as exc:  # noqa: BLE001
        return problem_for(path, exc)
    finally:
        fa.close()
    text = bad_text(record)
    if text is not None:
        return ProblemRecord("unreadable", f"{path}: text {text!r} in the file is not valid "
                             "UTF-8 or contains NUL (damaged METADATA or names?)")
    return record
