"""The bounded cache of open files and the errors of opening files."""

from __future__ import annotations

import gc
import os
import resource
import threading

import h5py
import pytest

from extra_catalog.exceptions import (CorruptFileError, DataFileNotFoundError,
                                      DataFilePermissionError)
from extra_catalog.fileaccess import FileAccess, FileHandleCache, get_handle_cache, hdf5_open_count
from extra_catalog.fileaccess import handles
from extra_catalog.testing import Motor, write_file

from .conftest import MOTOR_NAME


@pytest.fixture(scope="module")
def many_files(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    root = tmp_path_factory.mktemp("many")
    return [str(write_file(root / f"RAW-R0001-DA01-S{i:05d}.h5", [Motor(MOTOR_NAME)], n_trains=3))
            for i in range(6)]


def open_hdf5_files() -> int:
    gc.collect()
    return h5py.h5f.get_obj_count(h5py.h5f.OBJ_ALL, h5py.h5f.OBJ_FILE)


def test_cache_bounds_open_files(many_files) -> None:
    cache = FileHandleCache(maxfiles=3)
    baseline = open_hdf5_files()
    for path in many_files:
        cache.open(path)
    assert cache.n_open() == 3
    assert [cache.is_open(p) for p in many_files] == [False] * 3 + [True] * 3
    assert open_hdf5_files() - baseline == 3  # evicted files really closed
    cache.close_all()
    assert open_hdf5_files() == baseline


def test_least_recently_used_is_closed_first(many_files) -> None:
    cache = FileHandleCache(maxfiles=2)
    a, b, c = many_files[:3]
    cache.open(a)
    cache.open(b)
    cache.open(a)  # a is now the most recent
    cache.open(c)
    assert cache.is_open(a) and cache.is_open(c) and not cache.is_open(b)


def test_reuse_does_not_reopen(many_files) -> None:
    cache = FileHandleCache(maxfiles=2)
    opens = hdf5_open_count()
    f1 = cache.open(many_files[0])
    assert cache.open(many_files[0]) is f1
    assert hdf5_open_count() == opens + 1


def test_lowering_maxfiles_closes_at_once(many_files) -> None:
    cache = FileHandleCache(maxfiles=5)
    for path in many_files:
        cache.open(path)
    cache.maxfiles = 1
    assert cache.n_open() == 1 and cache.is_open(many_files[-1])
    with pytest.raises(ValueError):
        cache.maxfiles = 0


def test_weak_close_keeps_objects_in_use_readable(many_files) -> None:
    cache = FileHandleCache(maxfiles=1)
    dset = cache.open(many_files[0])[f"CONTROL/{MOTOR_NAME}/actualPosition/value"]
    cache.open(many_files[1])  # evicts the first file
    assert not cache.is_open(many_files[0])
    assert len(dset[:]) == 3  # still usable: h5py closes it when unused


def test_file_access_goes_through_global_cache(many_files) -> None:
    cache = get_handle_cache()
    old = cache.maxfiles
    cache.maxfiles = 2
    try:
        baseline = open_hdf5_files()
        accesses = [FileAccess(p) for p in many_files]
        for fa in accesses:
            fa.file
        assert cache.n_open() == 2
        assert open_hdf5_files() - baseline <= 2
        # A closed file is reopened on demand.
        assert accesses[0].file[f"CONTROL/{MOTOR_NAME}/actualPosition/value"].shape == (3,)
    finally:
        cache.maxfiles = old


def test_default_maxfiles_follows_soft_limit(monkeypatch) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert handles.default_maxfiles() == max(8, min(1024, soft // 2))
    monkeypatch.setattr(resource, "getrlimit", lambda which: (100, 4096))
    assert handles.default_maxfiles() == 50
    monkeypatch.setattr(resource, "getrlimit", lambda which: (resource.RLIM_INFINITY,) * 2)
    assert handles.default_maxfiles() == 1024
    # Reading the limit must not change it.
    monkeypatch.undo()
    assert resource.getrlimit(resource.RLIMIT_NOFILE) == (soft, hard)


def test_thread_safe_opening(many_files) -> None:
    cache = FileHandleCache(maxfiles=3)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                for path in many_files:
                    assert cache.open(path).id.valid
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert cache.n_open() <= 3


def test_missing_file(tmp_path) -> None:
    path = tmp_path / "RAW-R0001-DA01-S00000.h5"
    with pytest.raises(DataFileNotFoundError, match="does not exist") as info:
        FileAccess(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, FileNotFoundError)


def test_permission_denied_on_open(many_files, monkeypatch) -> None:
    def refuse(path: str) -> h5py.File:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(handles, "_h5open", refuse)
    with pytest.raises(DataFilePermissionError, match="permission denied") as info:
        FileAccess(many_files[0])
    assert info.value.path == many_files[0]
    assert isinstance(info.value, PermissionError)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may read files whatever their mode")
def test_permission_denied_for_real(tmp_path) -> None:
    path = write_file(tmp_path / "RAW-R0001-DA01-S00000.h5", [Motor(MOTOR_NAME)])
    path.chmod(0)
    try:
        with pytest.raises(DataFilePermissionError, match=str(path)):
            FileAccess(path)
    finally:
        path.chmod(0o644)


def test_fifo_is_refused_without_blocking(tmp_path) -> None:
    fifo = tmp_path / "RAW-R0001-DA99-S00000.h5"
    os.mkfifo(fifo)
    with pytest.raises(CorruptFileError, match="not a regular file"):
        FileAccess(fifo)


def test_garbage_file_is_corrupt(tmp_path) -> None:
    path = tmp_path / "RAW-R0001-DA01-S00000.h5"
    path.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(CorruptFileError, match=f"{path}: not a readable HDF5 file"):
        FileAccess(path)
    assert get_handle_cache().n_open() == 0
