"""dc.auxiliary: REDUCTION and ERRATA sources, their names, data and listing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extra_catalog import SourceNameError

DET = "SPB_DET_AGIPD1M-1/DET/{}CH0:xtdf"
REDUCTION = ["PULSE_REDUCTION/" + DET.format(i) for i in range(2)]
ERRATA = "DA01@TRAINS_OUTSIDE_BUFFER_RANGE"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from extra_catalog.testing import write_run

    path = tmp_path_factory.mktemp("aux") / "r0001"
    write_run(path, detector="AGIPD1M", n_modules=2, frame_shape=(4, 4), n_trains=8,
              frames_per_train=3, n_control_sources=1, auxiliary=True)
    return path


@pytest.fixture(scope="module")
def catalog_url(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    from extra_catalog.catalog import init_catalog, open_catalog
    from extra_catalog.index.crawler import CrawlOptions, crawl

    url = str(tmp_path_factory.mktemp("aux_db") / "catalog.sqlite")
    init_catalog(url)
    with open_catalog(url) as cat:
        crawl(cat, [run_dir], CrawlOptions(settle=0, processes=1))
    return url


def test_names_plain_or_prefixed_by_aggregator(run_dir: Path) -> None:
    from extra_catalog import RunDirectory

    aux = RunDirectory(run_dir).auxiliary
    # A reduction source ends with its module's real source name: plain.
    # The errata source does not: it is named after its aggregator.
    assert aux.reduction_sources == frozenset(REDUCTION)
    assert aux.errata_sources == frozenset([ERRATA])
    assert aux.all_sources == frozenset(REDUCTION + [ERRATA])
    assert str(aux) == "<extra_data.AuxiliaryIndexer for 3 sources and 8 trains>"
    assert REDUCTION[0] in aux and "nothing" not in aux and 3 not in aux
    assert (ERRATA, "nothing") not in aux


def test_item_access_gives_source_and_key_data(run_dir: Path) -> None:
    from extra_catalog import RunDirectory

    run = RunDirectory(run_dir)
    sd = run.auxiliary[REDUCTION[1]]
    assert (sd.section, sd.is_reduction, sd.is_auxiliary, sd.aggregator) == (
        "REDUCTION", True, True, "AGIPD01")
    assert repr(sd).startswith("<extra_data.SourceData section=REDUCTION source=")
    key = sorted(sd.keys())[0]
    kd = run.auxiliary[REDUCTION[1], key]
    assert kd.is_auxiliary and kd.shape[0] == int(sd.data_counts(labelled=False).sum())
    assert kd.ndarray().shape == kd.shape
    # The auxiliary sources are not among the collection's sources.
    assert not run.all_sources & run.auxiliary.all_sources
    short = run.select_trains(np.s_[2:5]).auxiliary[ERRATA]
    assert short.train_ids == run.train_ids[2:5]


def test_unknown_names_say_where_to_look(run_dir: Path) -> None:
    from extra_catalog import RunDirectory

    aux = RunDirectory(run_dir).auxiliary
    with pytest.raises(SourceNameError, match="duplicates of an auxiliary source named "
                                              "'TRAINS_OUTSIDE_BUFFER_RANGE'"):
        aux["TRAINS_OUTSIDE_BUFFER_RANGE"]
    with pytest.raises(SourceNameError, match="no auxiliary source named 'x'"):
        aux["x"]
    with pytest.raises(TypeError):
        aux[1]


def test_listing(run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from extra_catalog import RunDirectory

    run = RunDirectory(run_dir)
    expected = ["2 reduction sources:", *(f"  -  {s}" for s in REDUCTION), "",
                "1 errata sources:", f"  -  {ERRATA}"]
    assert repr(run.auxiliary).split("\n")[:-1] == expected
    run.info(with_auxiliary=True, with_aggregators=True)
    lines = capsys.readouterr().out.split("\n")[:-1]
    assert lines[-6:] == ["2 reduction sources:",
                          f"  -  [AGIPD00] {REDUCTION[0]}", f"  -  [AGIPD01] {REDUCTION[1]}",
                          "", "1 errata sources:", f"  -  [DA01] {ERRATA}"]


def test_from_the_catalogue_without_opening_files(run_dir: Path, catalog_url: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from extra_catalog import RunDirectory
    from extra_catalog.fileaccess import get_handle_cache, hdf5_open_count
    from extra_catalog.fileaccess.file_access import _registry

    _registry.clear()  # forget the files other tests read from disk
    get_handle_cache().close_all()
    before = hdf5_open_count()
    run = RunDirectory(run_dir, catalog=catalog_url)
    aux = run.auxiliary
    assert aux.all_sources == frozenset(REDUCTION + [ERRATA])
    sd = aux[REDUCTION[0]]
    sd.keys()
    assert sd.data_counts(labelled=False).tolist() == [1] * 8
    aux.info(details_for_sources=["*"])
    assert hdf5_open_count() == before
    assert "      data for 8 trains (100.00%), 1 entries per train" in capsys.readouterr().out
