"""Locality file filters and helpers, on directories with simulated dCache pseudo-files."""

from __future__ import annotations

import functools
import time

import pytest

from extra_catalog import RunDirectory
from extra_catalog import locality as lc
from extra_catalog.fileaccess import hdf5_open_count

from .conftest import data_files, hang_locality, set_locality

STATES = ["ONLINE", "NEARLINE", "UNAVAILABLE", "ONLINE_AND_NEARLINE"]


@pytest.fixture
def mixed(run_dir):
    """Five files: ONLINE, NEARLINE, UNAVAILABLE, ONLINE_AND_NEARLINE, and one not on dCache."""
    files = data_files(run_dir)
    for path, state in zip(files, STATES):
        set_locality(path, state)
    return [str(f) for f in files]


def test_get_locality_reads_the_pseudo_file_or_says_not_on_dcache(mixed):
    assert [lc.get_locality(p) for p in mixed] == list(zip(mixed, STATES + ["NOT_ON_DCACHE"]))


def test_constants_match_extra_data():
    assert (lc.UNAVAIL, lc.ONTAPE, lc.ONDISK, lc.ANY) == (1, 2, 4, 7)
    assert lc.DC_LOC_RESP == {"UNAVAILABLE": 1, "NEARLINE": 2, "ONLINE": 4,
                              "ONLINE_AND_NEARLINE": 6, "NOT_ON_DCACHE": 4}
    assert lc.LOCMSG == {0: "Unknown locality", 1: "Unavailable", 2: "Only on tape",
                         4: "On disk", 6: "On disk"}


def test_lc_ondisk_keeps_files_on_disk_and_names_the_others(mixed, capsys):
    kept = lc.lc_ondisk(mixed)
    assert kept == [mixed[0], mixed[3], mixed[4]]
    assert capsys.readouterr().err == (f"Skipping file {mixed[1]}\n  (Only on tape)\n"
                                       f"Skipping file {mixed[2]}\n  (Unavailable)\n")


def test_lc_avail_also_keeps_files_on_tape(mixed, capsys):
    assert lc.lc_avail(mixed) == [mixed[0], mixed[1], mixed[3], mixed[4]]
    assert capsys.readouterr().err == f"Skipping file {mixed[2]}\n  (Unavailable)\n"


def test_lc_match_with_a_mask(mixed, capsys):
    assert lc.lc_match(mixed, lc.UNAVAIL) == [mixed[2]]
    assert lc.lc_match(mixed, lc.ANY) == mixed
    assert capsys.readouterr().err.count("Skipping file") == 4


def test_unknown_locality_is_never_accepted(run_dir, capsys):
    path = str(data_files(run_dir)[0])
    set_locality(path, "LOST")
    assert lc.lc_match([path], lc.ANY) == []
    assert "(Unknown locality: 'LOST')" in capsys.readouterr().err


def test_lc_any_asks_nothing(run_dir):
    files = [str(p) for p in data_files(run_dir)]
    for path in files:
        hang_locality(path)  # any read would block
    assert lc.lc_any(files) is files


def test_partition_groups_by_state(mixed):
    seen = []
    groups = lc.partition(mixed, cb_disp=lambda g: seen.append(sum(map(len, g.values()))))
    assert {k: sorted(v) for k, v in groups.items()} == {
        "ONLINE": [mixed[0]], "NEARLINE": [mixed[1]], "UNAVAILABLE": [mixed[2]],
        "ONLINE_AND_NEARLINE": [mixed[3]], "NOT_ON_DCACHE": [mixed[4]]}
    assert seen == [1, 2, 3, 4, 5]


def test_a_pseudo_file_that_blocks_times_out_as_unknown(run_dir, capsys):
    files = [str(p) for p in data_files(run_dir)]
    hang_locality(files[1])
    start = time.monotonic()
    kept = lc.lc_match(files, lc.ONDISK, timeout=0.5)
    assert time.monotonic() - start < 10  # safety net: the read would block forever
    assert kept == files[:1] + files[2:]
    err = capsys.readouterr().err
    assert f"Skipping file {files[1]}\n  (Unknown locality: dCache gave no answer" in err
    assert lc.get_locality(files[1], timeout=0.2) == (files[1], lc.TIMEOUT)


def test_default_timeout_applies_to_the_filters(run_dir, monkeypatch, capsys):
    files = [str(p) for p in data_files(run_dir)]
    hang_locality(files[0])
    monkeypatch.setattr(lc, "DEFAULT_TIMEOUT", 0.3)
    assert lc.lc_ondisk(files) == files[1:]
    assert "within 0.3 s" in capsys.readouterr().err


def test_run_directory_file_filter_without_catalogue(mixed, run_dir, capsys):
    before = hdf5_open_count()
    with RunDirectory(run_dir, file_filter=lc.lc_ondisk, catalog=None) as run:
        names = sorted(f.filename for f in run.files)
    assert names == [mixed[0], mixed[3], mixed[4]]
    assert "Skipping file" in capsys.readouterr().err
    # The files on tape or unavailable were never opened.
    assert hdf5_open_count() - before == 3


def test_a_partial_of_lc_match_works_as_a_filter(mixed, run_dir, capsys):
    only_tape = functools.partial(lc.lc_match, accept=lc.ONTAPE)
    with RunDirectory(run_dir, file_filter=only_tape, catalog=None) as run:
        assert sorted(f.filename for f in run.files) == [mixed[1], mixed[3]]


def test_a_pseudo_file_that_cannot_be_read_is_an_unknown_locality(run_dir, capsys):
    import os

    from extra_catalog.fileaccess.locality import pseudo_path

    files = [str(p) for p in data_files(run_dir)]
    os.mkdir(pseudo_path(files[0]))
    assert lc.get_locality(files[0]) == (files[0], lc.ERROR)
    assert lc.lc_ondisk(files) == files[1:]
    assert "(Unknown locality: its dCache pseudo-file could not be read)" in capsys.readouterr().err
