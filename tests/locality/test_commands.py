"""``extra-data-locality`` and ``extra-data-readable`` on simulated dCache directories."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from extra_catalog.cli.locality import run_locality, run_readable
from extra_catalog.fileaccess.locality import pseudo_path
from extra_catalog.locality import readable
from extra_catalog.locality.readable import check_readable

from .conftest import data_files, hang_locality, set_locality


def _locality(capsys, *args: str) -> tuple[int, str]:
    status = run_locality(list(args))
    return status, capsys.readouterr().out


def _readable(capsys, *args: str) -> tuple[int, list[str]]:
    status = run_readable(list(args))
    return status, capsys.readouterr().out.splitlines()


# -- extra-data-locality ---------------------------------------------------------------


def test_locality_all_on_disk(run_dir, capsys):
    set_locality(data_files(run_dir)[0], "ONLINE")
    status, out = _locality(capsys, str(run_dir))
    assert status == 0
    assert out.splitlines()[:2] == [f"Checking 5 files in {run_dir}",
                                    "5 on disk, 0 only on tape, 0 unavailable    "]
    assert "Only on tape" not in out and "Unavailable" not in out


@pytest.mark.parametrize(("states", "status"), [
    (["NEARLINE"], 1), (["UNAVAILABLE"], 2), (["LOST"], 4),
    (["NEARLINE", "UNAVAILABLE"], 3), (["NEARLINE", "UNAVAILABLE", "LOST"], 7)])
def test_locality_exit_status_is_a_bit_mask(run_dir, capsys, states, status):
    files = data_files(run_dir)
    for path, state in zip(files, states):
        set_locality(path, state)
    code, out = _locality(capsys, str(run_dir))
    assert code == status
    where = {state: files[i] for i, state in enumerate(states)}
    if "NEARLINE" in states:
        assert f"Only on tape:\n  {where['NEARLINE']}\n" in out
    if "UNAVAILABLE" in states:
        assert f"Unavailable:\n  {where['UNAVAILABLE']}\n" in out
    if "LOST" in states:
        assert f"Unknown locality:\n  {where['LOST']} (LOST)\n" in out


def test_locality_of_one_file(run_dir, capsys):
    path = data_files(run_dir)[0]
    set_locality(path, "NEARLINE")
    code, out = _locality(capsys, str(path))
    assert code == 1 and out.startswith(f"Checking 1 files in {path}\n")


def test_locality_missing_path_is_255(tmp_path, capsys):
    code, out = _locality(capsys, str(tmp_path / "nope"))
    assert (code, out) == (255, f"Path '{tmp_path / 'nope'}' is not found\n")


def test_locality_hanging_pseudo_file_is_unknown_not_a_hang(run_dir, capsys):
    path = data_files(run_dir)[2]
    hang_locality(path)
    start = time.monotonic()
    code, out = _locality(capsys, str(run_dir), "--timeout", "0.5")
    assert time.monotonic() - start < 10  # safety net
    assert code == 4 and f"Unknown locality:\n  {path} (TIMEOUT)\n" in out


def test_locality_entry_point_exits_with_the_status(run_dir, capsys):
    from extra_catalog.cli.locality import locality_main

    set_locality(data_files(run_dir)[0], "UNAVAILABLE")
    with pytest.raises(SystemExit) as exc:
        locality_main([str(run_dir)])
    assert exc.value.code == 2


# -- extra-data-readable ---------------------------------------------------------------


def test_readable_all_files(run_dir, capsys):
    status, lines = _readable(capsys, str(run_dir))
    assert status == 0
    assert lines[0] == "....."
    assert lines[1].startswith("average access time: ") and "s, max access time: " in lines[1]
    assert lines[2:] == ["all files readable"]


def test_readable_reports_tape_unavailable_and_missing_files(run_dir, capsys):
    files = data_files(run_dir)
    set_locality(files[0], "NEARLINE")
    set_locality(files[1], "UNAVAILABLE")
    set_locality(files[2], "ONLINE")
    broken = run_dir / "RAW-R0001-DA09-S00000.h5"
    broken.symlink_to(run_dir / "gone.h5")
    status, lines = _readable(capsys, str(run_dir))
    assert status == 1
    assert sorted(lines[0]) == sorted("..." + "XX" + "E")
    width = len(str(files[0])) + 3  # the longest path shown, and 3 spaces
    assert lines[2:] == [
        f"{str(files[0]).ljust(width)} dCache reports tape only",
        f"{str(files[1]).ljust(width)} dCache reports unavailable",
        f"{str(broken).ljust(width)} file on GPFS but stat raises FileNotFoundError",
    ]


def test_readable_all_shows_readable_files_too(run_dir, capsys):
    files = data_files(run_dir)
    set_locality(files[0], "ONLINE_AND_NEARLINE")
    status, lines = _readable(capsys, "--all", str(files[0]), str(files[1]))
    assert status == 0
    assert [line.split()[-1] for line in lines[2:]] == ["readable", "readable"]


def test_readable_damaged_file_is_not_readable(run_dir, capsys):
    bad = run_dir / "RAW-R0001-DA07-S00000.h5"
    bad.write_bytes(b"not HDF5 at all")
    status, lines = _readable(capsys, str(bad))
    assert status == 1 and lines[0] == "X" and lines[1] == "no files are readable"
    assert lines[2].endswith("file on GPFS but read attempt raises CorruptFileError")


def test_readable_hanging_locality_times_out(run_dir, capsys):
    files = data_files(run_dir)
    hang_locality(files[3])
    start = time.monotonic()
    status, lines = _readable(capsys, "--timeout", "1", str(run_dir))
    assert time.monotonic() - start < 20  # safety net
    assert status == 1 and sorted(lines[0]) == sorted("....T")
    assert lines[2].split() == [str(files[3]), "any", "access", "hangs"]


def _read_blocks_on_da01(path: Path) -> None:
    if "DA01" in path.name:
        time.sleep(600)  # a read stuck in the kernel, as far as the check can tell
    readable._open_and_read(path)


def test_a_blocked_read_is_stopped_and_says_where(run_dir):
    files = data_files(run_dir)
    set_locality(files[3], "ONLINE")
    start = time.monotonic()
    results = {Path(r.path).name: r for r in check_readable(files, timeout=1,
                                                             read=_read_blocks_on_da01)}
    assert time.monotonic() - start < 20  # safety net
    hung = results[files[3].name]
    assert (hung.mark, hung.state, hung.readable) == ("T", "dCache reports on disk but read "
                                                           "attempt hangs", False)
    assert all(r.readable and r.seconds > 0 for n, r in results.items() if n != files[3].name)


def test_readable_recursive(run_dir, capsys):
    parent = str(run_dir.parent)
    assert _readable(capsys, parent) == (0, ["No HDF5 files to check"])
    status, lines = _readable(capsys, "-r", parent)
    assert status == 0 and lines[0] == "....."


def test_readable_works_on_one_cpu(run_dir, capsys, monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert readable.default_processes() == 4
    status, lines = _readable(capsys, str(run_dir))
    assert (status, lines[0]) == (0, ".....")
    assert [r.mark for r in check_readable(data_files(run_dir), processes=1)] == ["."] * 5


def test_readable_names_missing_inputs(tmp_path, capsys):
    status = run_readable([str(tmp_path / "nope")])
    captured = capsys.readouterr()
    assert status == 0 and captured.out == "No HDF5 files to check\n"
    assert "nope: no such file or directory" in captured.err


def test_readable_rejects_a_bad_timeout(run_dir, capsys):
    assert run_readable(["--timeout", "0", str(run_dir)]) == 2
    assert "--timeout" in capsys.readouterr().err


def test_stopping_early_ends_the_running_checks(run_dir):
    files = data_files(run_dir)
    checks = check_readable(files, timeout=60, processes=5, read=_read_blocks_on_da01)
    first = next(checks)
    assert first.readable  # the DA01 check is meanwhile blocked
    import multiprocessing

    checks.close()  # the DA01 check, blocked for 600 s, must not be left running
    assert [p for p in multiprocessing.active_children() if p.is_alive()] == []


def test_readable_locality_check_that_raises_is_an_error(run_dir, capsys):
    path = data_files(run_dir)[0]
    os.mkdir(pseudo_path(path))  # the pseudo-file cannot be read
    status, lines = _readable(capsys, str(path))
    assert status == 1 and lines[0] == "E"
    assert lines[2].endswith("locality check raises IsADirectoryError")
