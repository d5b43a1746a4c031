"""Reading one file in a crawler worker process.

Whatever goes wrong with a file, the worker returns a value: a
:class:`~extra_catalog.records.FileRecord`, or a
:class:`~extra_catalog.records.ProblemRecord` saying why the file could not
be read. The crawl never stops because of one bad file.
"""

from __future__ import annotations

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


def read_file(path: str) -> FileRecord | ProblemRecord:
    """Read the catalogue record of one file (run in a worker process)."""
    from ..fileaccess import FileAccess

    try:
        fa = FileAccess(path)
    except Exception as exc:  # noqa: BLE001 - a bad file becomes a recorded problem
        return problem_for(path, exc)
    try:
        return fa.to_record()
    except Exception as exc:  # noqa: BLE001
        return problem_for(path, exc)
    finally:
        fa.close()
