"""to_record / from_record, pickling and the one-instance-per-path registry."""

from __future__ import annotations

import dataclasses
import gc
import os
import pickle
import weakref
from typing import Any

import numpy as np
import pytest

from extra_catalog.exceptions import SourceNameError

from extra_catalog.fileaccess import FileAccess, get_handle_cache, hdf5_open_count, read_record
from extra_catalog.fileaccess.codec import decode_array
from extra_catalog.testing import Motor, write_file

from .conftest import MOTOR_NAME, forget_instances


def snapshot(fa: FileAccess) -> dict[str, Any]:
    """Every metadata answer of *fa*, as plain comparable values."""
    out: dict[str, Any] = {
        "filename": fa.filename,
        "format_version": fa.format_version,
        "train_ids": fa.train_ids.tolist(),
        "train_ids_dtype": str(fa.train_ids.dtype),
        "validity": fa.validity_flag.tolist(),
        "valid": fa.valid_train_ids.tolist(),
        "timestamps": None if fa.timestamps is None else fa.timestamps.tolist(),
        "control": fa.control_sources,
        "instrument": fa.instrument_sources,
        "reduction": fa.reduction_sources,
        "errata": fa.errata_sources,
        "legacy": fa.legacy_sources,
        "all": fa.all_sources,
        "metadata": fa.metadata(),
        "size_mtime": (fa.metadata_fstat.st_size, fa.metadata_fstat.st_mtime),
        "path_info": (fa.storage_class, fa.instrument, fa.cycle, fa.proposal, fa.run,
                      fa.data_category, fa.aggregator, fa.sequence),
        "problems": fa.problems,
        "has": fa.has_train_ids(np.array([10002])),
    }
    for src in sorted(fa.all_sources | fa.reduction_sources | fa.errata_sources):
        out[src, "groups"] = fa.index_groups(src)
        for g in sorted(fa.index_groups(src)):
            first, count = fa.get_index(src, g)
            out[src, g] = (first.tolist(), count.tolist(), str(first.dtype))
        out[src, "keys"] = fa.get_keys(src)
        for key in sorted(fa.get_keys(src)):
            out[src, key] = fa.key_info(src, key)
        out[src, "run"] = fa.get_run_values(src)
        try:
            out[src, "run_keys"] = fa.get_run_keys(src)
        except SourceNameError:  # no RUN data for this source
            out[src, "run_keys"] = None
    return out


def test_from_record_answers_like_the_file_without_opening(version_file) -> None:
    from_file = FileAccess(version_file)
    expected = snapshot(from_file)
    record = from_file.to_record()
    del from_file
    forget_instances()
    opens = hdf5_open_count()
    fa = FileAccess.from_record(record)
    assert snapshot(fa) == expected
    assert fa.to_record() == record
    assert hdf5_open_count() == opens
    # Reading data opens the file.
    fa.file
    assert hdf5_open_count() == opens + 1


def test_record_is_complete_and_plain(version_file) -> None:
    record = FileAccess(version_file).to_record()
    st = os.stat(version_file)
    assert (record.size, record.mtime, record.inode) == (st.st_size, st.st_mtime, st.st_ino)
    assert record.path == str(version_file)
    assert pickle.loads(pickle.dumps(record)) == record
    hash(record)  # frozen and made of hashable parts
    names = {s.name for s in record.sources}
    fa = FileAccess(version_file)
    assert names == fa.all_sources | fa.reduction_sources | fa.errata_sources


def test_basic_attributes_need_no_source_reads(version_file) -> None:
    # Making a FileAccess reads train IDs and source lists only; the rest is
    # read per source on demand, and to_record() reads everything.
    fa = FileAccess(version_file)
    assert fa._src_records == {}
    fa.get_keys(MOTOR_NAME)
    assert set(fa._src_records) == {MOTOR_NAME}


def test_pickle_returns_registered_instance(version_file) -> None:
    fa = FileAccess(version_file)
    assert pickle.loads(pickle.dumps(fa)) is fa


def test_unpickle_elsewhere_rebuilds_from_record_without_opening(version_file) -> None:
    fa = FileAccess(version_file)
    fa.to_record()
    data = pickle.dumps(fa)
    expected = snapshot(fa)
    del fa
    forget_instances()  # as in a worker process
    opens = hdf5_open_count()
    clone = pickle.loads(data)
    assert snapshot(clone) == expected
    assert hdf5_open_count() == opens


def test_unpickle_without_full_record_reads_the_file(version_file) -> None:
    data = pickle.dumps(FileAccess(version_file))
    forget_instances()
    opens = hdf5_open_count()
    clone = pickle.loads(data)
    assert clone.filename == str(version_file)
    assert hdf5_open_count() == opens + 1


def test_one_instance_per_absolute_path(version_file, monkeypatch) -> None:
    fa = FileAccess(version_file)
    monkeypatch.chdir(version_file.parent)
    assert FileAccess(version_file.name) is fa
    assert FileAccess(str(version_file)) is fa
    assert fa == FileAccess(version_file) and hash(fa) == hash(FileAccess(version_file))
    assert FileAccess.from_record(fa.to_record()) is fa
    assert FileAccess(version_file, _cache_info=fa.to_record()) is fa


def test_registry_is_weak(version_file) -> None:
    fa = FileAccess(version_file)
    ref = weakref.ref(fa)
    del fa
    gc.collect()
    assert ref() is None  # the registry does not keep instances alive
    get_handle_cache().close_all()
    opens = hdf5_open_count()
    FileAccess(version_file)
    assert hdf5_open_count() == opens + 1


def test_registry_forgets_collected_instances_as_it_grows(version_file) -> None:
    from extra_catalog.fileaccess.file_access import _registry

    record = FileAccess(version_file).to_record()
    gc.collect()
    kept = []
    for i in range(3000):  # more than one sweep's worth of paths
        rec = dataclasses.replace(record, path=f"{version_file.parent}/copy-{i}.h5")
        fa = FileAccess.from_record(rec)
        if i % 100 == 0:
            kept.append(fa)
        del fa
    assert all(_registry.get(fa.filename) is fa for fa in kept)
    assert _registry.get(f"{version_file.parent}/copy-1.h5") is None
    assert len(_registry._refs) < 2100  # references to collected instances were dropped
    assert len(_registry) >= len(kept)


def test_from_record_replaces_instance_of_changed_file(tmp_path) -> None:
    path = write_file(tmp_path / "RAW-R0001-DA01-S00000.h5", [Motor(MOTOR_NAME)], n_trains=5)
    old = FileAccess(path)
    record = old.to_record()
    newer = dataclasses.replace(record, size=record.size + 1, mtime=record.mtime + 10)
    fresh = FileAccess.from_record(newer)
    assert fresh is not old
    assert FileAccess(path) is fresh
    assert fresh.metadata_fstat.st_size == record.size + 1


def test_cache_info_for_other_path_rejected(version_file, tmp_path) -> None:
    record = FileAccess(version_file).to_record()
    with pytest.raises(ValueError, match="record is for"):
        FileAccess(tmp_path / "other.h5", _cache_info=record)


def test_read_record_sees_a_rewritten_file(tmp_path) -> None:
    path = write_file(tmp_path / "RAW-R0001-DA01-S00000.h5", [Motor(MOTOR_NAME)], n_trains=4)
    held = FileAccess(path)
    assert read_record(path) == held.to_record()
    get_handle_cache().close_all()  # HDF5 refuses to rewrite a file it has open
    write_file(path, [Motor(MOTOR_NAME)], n_trains=6)
    fresh = read_record(path)
    assert len(decode_array(fresh.train_ids)) == 6
    assert FileAccess(path) is held  # the registry is untouched
    assert FileAccess.from_record(fresh) is not held  # size/mtime differ: replaced


def test_from_record_completes_a_file_instance_without_reading(version_file) -> None:
    record = FileAccess(version_file).to_record()
    forget_instances()
    fa = FileAccess(version_file)  # reads only the basics
    opens = hdf5_open_count()
    assert FileAccess.from_record(record) is fa
    get_handle_cache().close_all()
    assert fa.to_record() == record
    assert fa.get_keys(MOTOR_NAME)
    assert hdf5_open_count() == opens


def test_top_level_name_is_this_class() -> None:
    import extra_catalog

    assert extra_catalog.FileAccess is FileAccess


def test_trusted_records_equal_those_the_constructor_makes() -> None:
    from extra_catalog.records import IndexGroupRecord, SourceRecord, trusted

    group = trusted(IndexGroupRecord, name="image", first=b"\x01", count=b"\x02")
    assert group == IndexGroupRecord("image", b"\x01", b"\x02")
    assert hash(group) == hash(IndexGroupRecord("image", b"\x01", b"\x02"))
    source = trusted(SourceRecord, name="A/B/C", section="CONTROL")  # defaults kept
    assert source == SourceRecord("A/B/C", "CONTROL") and source.keys == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        source.name = "other"
