"""The streaming commands: karabo-bridge-serve-run / -files and xfel-index serve."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from extra_catalog.testing import write_tree
from extra_catalog.testing.tree import ProposalSpec, RunSpec

from .conftest import XGM, client_for, receive

BIN = Path(sys.executable).parent
#: Two proposals whose runs overlap in train IDs (two instruments at once), and a later run.
TREE = (
    ProposalSpec(900001, "SPB", "202601", (RunSpec(1, n_trains=10, first_train_id=10000),
                                           RunSpec(2, n_trains=4, first_train_id=20000))),
    ProposalSpec(900002, "FXE", "202601", (RunSpec(1, n_trains=10, first_train_id=10005),)),
)


@pytest.fixture(scope="module")
def facility(tmp_path_factory) -> tuple[Path, str]:
    """The tree of :data:`TREE` and a catalogue of it."""
    from extra_catalog.catalog import init_catalog, open_catalog
    from extra_catalog.index.crawler import CrawlOptions, crawl

    root = tmp_path_factory.mktemp("facility")
    write_tree(root, spec=TREE)
    url = str(root / "catalog.sqlite")
    init_catalog(url)
    with open_catalog(url) as store:
        crawl(store, [root], CrawlOptions(settle=0, processes=1))
    return root, url


def _environment(facility: tuple[Path, str]) -> dict[str, str]:
    root, url = facility
    return {**os.environ, "EXTRA_DATA_DATA_ROOT": str(root), "EXTRA_CATALOG_URL": url,
            "PYTHONWARNINGS": "ignore"}


class Served:
    """A streaming command in a subprocess, and the endpoint it printed."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen([str(BIN / args[0]), *args[1:]], env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for line in self.process.stdout:  # blocks until the socket listens (or exit)
            if line.startswith("Streamer started on: tcp://"):
                self.endpoint = "tcp://127.0.0.1:" + line.strip().rsplit(":", 1)[1]
                return
        pytest.fail(f"no endpoint printed: {self.process.stderr.read()}")

    def finish(self) -> tuple[int, str]:
        out, err = self.process.communicate(timeout=60)  # a safety net, not a measurement
        return self.process.returncode, out + err


def test_serve_run_streams_the_complete_trains(facility):
    served = Served(["karabo-bridge-serve-run", "900001", "1", "--port", "tcp://127.0.0.1:0",
                     "--include", f"{XGM}[*photonFlux*]", "--include", "*/MOTOR/X",
                     "-z", "PUSH"], _environment(facility))
    received = receive(client_for(served.endpoint, "PULL"), 10)
    code, output = served.finish()
    assert code == 0, output
    assert [m[XGM]["timestamp.tid"] for _, m in received] == list(range(10000, 10010))
    assert set(received[0][0]) == {XGM, "SPB_IRU_MOTORS/MOTOR/X"}
    assert "Sent 10/10 trains - Train ID 10009" in output


@pytest.mark.parametrize("stalled_client", [False, True])
def test_sigterm_stops_serve_run_cleanly(facility, stalled_client):
    served = Served(["karabo-bridge-serve-run", "900001", "1", "--port", "tcp://127.0.0.1:0",
                     "--include", "*XGM*"], _environment(facility))
    if stalled_client:  # took one train and went quiet: the server waits for its request
        receive(client_for(served.endpoint), 1)
    served.process.send_signal(signal.SIGTERM)
    code, output = served.finish()
    assert code == 0, output
    assert "Stopped." in output and "Traceback" not in output


@pytest.mark.filterwarnings("ignore:No data available for this run at origin proc")
def test_serve_run_without_include_lists_the_sources(facility, monkeypatch):
    from extra_catalog.cli.serve import serve_run

    for name, value in _environment(facility).items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(serve_run, ["900001", "1"])
    assert result.exit_code == 1
    assert "Available sources:\n" in result.output and f"  {XGM}\n" in result.output
    assert "Please select at least one source with --include" in result.output
    result = CliRunner().invoke(serve_run, ["900001", "1", "--include", "*XGM*[data.*"])
    assert result.exit_code == 1 and "Missing final ] in '*XGM*[data.*'" in result.output


def test_serve_files_needs_a_port():
    from extra_catalog.cli.serve import serve_files

    result = CliRunner().invoke(serve_files, ["/nonexistent"])
    assert result.exit_code == 2 and "PORT" in result.output


def test_xfel_index_serve_streams_matching_runs_in_train_order(facility):
    root, url = facility
    served = Served(["xfel-index", "serve", "--catalog", url, "--runs", "1-1", "--include",
                     f"{XGM}[*photonFlux*]", "--port", "tcp://127.0.0.1:0", "-z", "PUSH"],
                    _environment(facility))
    received = receive(client_for(served.endpoint, "PULL"), 20)
    code, output = served.finish()
    assert code == 0, output
    tids = [m[XGM]["timestamp.tid"] for _, m in received]
    # Both run 1s, merged by train ID where they overlap; run 2 is not selected.
    assert tids == sorted(list(range(10000, 10010)) + list(range(10005, 10015)))
    assert "Sent 20/20 trains" in output


def test_xfel_index_serve_without_matches(facility):
    from extra_catalog.cli.xfel_index import cli

    result = CliRunner().invoke(cli, ["serve", "--catalog", facility[1], "-p", "999999",
                                      "--include", "*"])
    assert result.exit_code == 1 and "no matching runs" in result.output


def test_complete_trains_come_from_the_catalogue_without_opening_files(facility):
    from extra_catalog import Catalog
    from extra_catalog.export.serve import select_for_streaming
    from extra_catalog.fileaccess import get_handle_cache, hdf5_open_count

    get_handle_cache().close_all()
    before = hdf5_open_count()
    with Catalog(facility[1]) as cat:
        runs = list(cat.open_runs(cat.runs(), data="raw"))
        selected = [select_for_streaming(run, [XGM, "*/MOTOR/X"]) for run in runs]
    assert hdf5_open_count() == before
    assert sum(len(s.train_ids) for s in selected) == 24
