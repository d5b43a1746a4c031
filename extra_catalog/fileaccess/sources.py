"""Read one source of an open file: its index arrays, keys and RUN values."""

from __future__ import annotations

import h5py
import numpy as np

from ..records import IndexGroupRecord, KeyRecord, ProblemRecord, RunValueRecord, SourceRecord
from .codec import dtype_to_str, encode_array
from .h5info import DatasetInfo, is_skip, read_array, to_scalar, visit_datasets

__all__ = ["SourceReader", "convert_old_index", "summarise_array"]


def convert_old_index(first: np.ndarray, last: np.ndarray, status: np.ndarray) -> np.ndarray:
    """``count`` from the old ``first/last/status`` index: (last-first+1)*status."""
    first = first.astype(np.int64)
    count = (last.astype(np.int64) - first + 1) * (np.asarray(status) != 0)
    return np.maximum(count, 0).astype(np.uint64)


def summarise_array(value: np.ndarray) -> str:
    """Short text describing an array RUN value (shape, dtype, range)."""
    text = f"array shape {value.shape} dtype {value.dtype}"
    if value.size and value.dtype.kind in "iufb":
        text += f" min {value.min().item()!r} max {value.max().item()!r}"
    elif value.size:
        first = [to_scalar(v) for v in value.reshape(-1)[:3]]
        text += f" first {first!r}"
    return text


class SourceReader:
    """Reads sources of one open file into SourceRecords.

    Parameters
    ----------
    f : h5py.File
    n_trains : int
        Train IDs after the padding is dropped; index arrays are cut to it.
    n_raw : int
        Length of ``INDEX/trainId`` as stored, to spot index arrays of the
        wrong length.
    problems : list of ProblemRecord
        Problems found are appended here.
    """

    def __init__(
        self, f: h5py.File, n_trains: int, n_raw: int, problems: list[ProblemRecord]
    ) -> None:
        self.f = f
        self.n = n_trains
        self.n_raw = n_raw
        self.problems = problems

    def read_source(self, section: str, name: str, groups: list[str]) -> SourceRecord:
        """The record of one source (legacy names must be resolved before)."""
        control = section == "CONTROL"
        infos: list[DatasetInfo] = []
        if _has_group(self.f, f"{section}/{name}"):
            infos = visit_datasets(self.f[section], name, parent_attrs=control)
        elif not control:
            self._problem("source_data_missing", f"no {section}/{name} group", name)
        keys = tuple(sorted((_key_record(i, control) for i in infos), key=lambda k: k.name))
        index_groups = [""] if control else sorted(set(groups))
        index = tuple(self._index_group(name, g) for g in index_groups)
        self._check_index_ends(name, index, keys, control)
        if not control:
            self._check_keys_indexed(name, keys, index_groups)
        return SourceRecord(
            name=name,
            section=section,
            index_groups=tuple(rec for rec, _, _ in index),
            keys=keys,
            run_values=self._run_values(name),
        )

    # ---- INDEX ------------------------------------------------------------

    def _index_group(
        self, source: str, group: str
    ) -> tuple[IndexGroupRecord, np.ndarray, np.ndarray]:
        path = f"INDEX/{source}/{group}".rstrip("/")
        first = read_array(self.f, path + "/first")
        count = read_array(self.f, path + "/count")
        if first is not None and count is None:
            last = read_array(self.f, path + "/last")
            status = read_array(self.f, path + "/status")
            same_shape = last is not None and status is not None \
                and first.shape == last.shape == status.shape
            if same_shape:
                count = convert_old_index(first, last, status)
        if first is not None and count is not None and first.ndim == count.ndim == 1:
            first = first.astype(np.uint64, copy=False)
            count = count.astype(np.uint64, copy=False)
        elif first is not None and count is not None:
            # A damaged index: read the file without this group's data;
            # extra-data-validate names the problem.
            self._problem("index_shape", f"{path} first/count are not 1-D ({first.shape}, "
                          f"{count.shape}): the group's data is left out", source, dataset=path)
            first = count = np.zeros(0, dtype=np.uint64)
        else:
            self._problem("index_missing", f"no first/count (or last/status) in {path}", source)
            first = count = np.zeros(0, dtype=np.uint64)
        first, count = self._fit_index(path, source, first, count)
        rec = IndexGroupRecord(group, encode_array(first), encode_array(count))
        return rec, first, count

    def _fit_index(
        self, path: str, source: str, first: np.ndarray, count: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        lengths = {len(first), len(count)}
        if lengths - {self.n_raw, self.n}:
            kind = "index_short" if min(lengths) < self.n else "index_long"
            self._problem(
                kind,
                f"{path} first/count have {len(first)}/{len(count)} entries but "
                f"INDEX/trainId has {self.n_raw}",
                source,
                dataset=path,
            )
        # Missing entries mean "no data" for those trains.
        return _fit(first, self.n), _fit(count, self.n)

    def _check_index_ends(
        self,
        source: str,
        index: tuple[tuple[IndexGroupRecord, np.ndarray, np.ndarray], ...],
        keys: tuple[KeyRecord, ...],
        control: bool,
    ) -> None:
        for rec, first, count in index:
            ends = first + count
            has = count > 0
            if not has.any():
                continue
            end = int(ends[has].max())
            prefix = "" if control else rec.name + "."
            for key in keys:
                if key.name.startswith(prefix) and key.length < end:
                    i = int(np.flatnonzero(has & (ends > key.length))[0])
                    self._problem(
                        "index_past_end",
                        f"index of {source!r} group {rec.name!r} points to entry {end - 1} "
                        f"but key {key.name!r} has {key.length} entries (from train index {i})",
                        source,
                        dataset=key.name,
                    )
                    break

    def _check_keys_indexed(
        self, source: str, keys: tuple[KeyRecord, ...], groups: list[str]
    ) -> None:
        loose = sorted({k.name.partition(".")[0] for k in keys} - set(groups))
        if loose:
            self._problem(
                "index_group_unlisted",
                f"data groups {loose} of {source!r} are not listed in METADATA, so they have "
                "no index group",
                source,
            )

    # ---- RUN ---------------------------------------------------------------

    def _run_values(self, source: str) -> tuple[RunValueRecord, ...]:
        if not _has_group(self.f, f"RUN/{source}"):
            return ()
        out = []
        for info in visit_datasets(self.f["RUN"], source, storage=False, content=True):
            out.append(_run_value(info))
        return tuple(sorted(out, key=lambda r: r.key))

    def _problem(self, check: str, message: str, source: str, dataset: str | None = None) -> None:
        self.problems.append(ProblemRecord(check, message, source=source, dataset=dataset))


def _fit(arr: np.ndarray, n: int) -> np.ndarray:
    arr = np.atleast_1d(arr)
    if len(arr) >= n:
        return arr[:n]
    return np.concatenate([arr, np.zeros(n - len(arr), dtype=np.uint64)])


def _key_record(info: DatasetInfo, control: bool) -> KeyRecord:
    # CONTROL attributes live on the property group; the dataset's own win.
    attrs = dict(info.parent_attrs) if control else {}
    attrs.update(info.attrs)
    return KeyRecord(
        name=info.path.replace("/", "."),
        dtype=dtype_to_str(info.dtype),
        entry_shape=info.shape[1:],
        length=info.shape[0] if info.shape else 0,
        chunks=info.chunks,
        compression=info.compression,
        compression_opts=info.compression_opts,
        shuffle=info.shuffle,
        attrs=tuple(sorted(attrs.items())),
    )


def _has_group(f: h5py.File, path: str) -> bool:
    try:
        return f.id.links.exists(path.encode("utf-8", "surrogateescape"))
    except (KeyError, ValueError, OSError, RuntimeError):
        return False  # a missing intermediate group


def _run_value(info: DatasetInfo) -> RunValueRecord:
    key = info.path.replace("/", ".")
    dtype = dtype_to_str(info.dtype)
    shape = info.shape[1:]
    if not info.shape or info.shape[0] == 0:
        return RunValueRecord(key, dtype, shape, None, summary="empty")
    value = info.content[0]  # type: ignore[index]
    if shape == ():
        scalar = to_scalar(value)
        if not is_skip(scalar):
            return RunValueRecord(key, dtype, shape, scalar)  # type: ignore[arg-type]
    return RunValueRecord(key, dtype, shape, None, summary=summarise_array(np.asarray(value)))
