"""Run directories that simulate dCache with real pseudo-files beside the data files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from extra_catalog.fileaccess.locality import pseudo_path
from extra_catalog.testing import write_run


def set_locality(path: Path, state: str) -> None:
    """Make dCache 'say' *state* about *path*."""
    Path(pseudo_path(path)).write_text(state + "\n")


def hang_locality(path: Path) -> Path:
    """Make asking dCache about *path* block: its pseudo-file is a FIFO nobody writes."""
    fifo = Path(pseudo_path(path))
    os.mkfifo(fifo)
    return fifo


def release(fifo: Path) -> None:
    """Let a reader blocked on *fifo* go (it sees end of file), so no thread stays stuck."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # nobody is waiting on it any more
        return
    os.close(fd)


@pytest.fixture(scope="session")
def pristine_run(tmp_path_factory) -> Path:
    """A small run of five files: three AGIPD modules and two aggregators."""
    run_dir = tmp_path_factory.mktemp("pristine_locality") / "r0001"
    write_run(run_dir, n_trains=5, detector="AGIPD1M", n_modules=3, frames_per_train=1,
              frame_shape=(4, 4), processes=1)
    return run_dir


@pytest.fixture
def run_dir(pristine_run, tmp_path) -> Iterator[Path]:
    """A private copy of the run; FIFOs made in it are released at the end."""
    copy = tmp_path / "r0001"
    shutil.copytree(pristine_run, copy)
    yield copy
    for entry in copy.iterdir():
        if entry.is_fifo():
            release(entry)


def data_files(run_dir: Path) -> list[Path]:
    return sorted(run_dir.glob("*.h5"))
