"""`xfel-index demo` (the README's command) and `xfel-index status` after a crawl."""

from __future__ import annotations

from click.testing import CliRunner

from extra_catalog.cli.xfel_index import cli


def test_demo_writes_catalogues_and_summarises(tmp_path):
    result = CliRunner().invoke(cli, ["demo", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "Wrote a demo tree of 9 runs" in result.output
    assert "9 new runs, 52 files" in result.output
    table = result.output.split("\n\n")[1].splitlines()
    assert table[0].split() == ["proposal", "run", "data", "instrument", "cycle", "files",
                                "trains", "format", "sample"]
    assert len(table) == 10
    assert "900001    2  proc  SPB" in result.output
    assert (tmp_path / "demo" / "catalog.sqlite").exists()

    status = CliRunner().invoke(cli, ["status", str(tmp_path / "demo" / "catalog.sqlite")])
    assert status.exit_code == 0, status.output
    assert "3 proposals, 9 runs, 52 files" in status.output
    lines = [line.split() for line in status.output.splitlines() if line.strip().startswith("900")]
    assert [(p[0], p[1], p[3], p[4]) for p in lines] == [
        ("900001", "SPB", "5", "38"), ("900002", "SPB", "2", "4"), ("900003", "FXE", "2", "10")]
    assert all(p[5].startswith("20") for p in lines)  # a last-crawled date
