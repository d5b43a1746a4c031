"""A small run with gaps, a streaming server in a thread, and the real karabo_bridge client."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from extra_catalog.fileaccess import get_handle_cache
from extra_catalog.testing import XTDFModule, default_aggregators, write_run

FIRST = 10000
N_TRAINS = 12
#: Module 1 has no data for these trains: complete trains need both modules.
SKIPPED = (FIRST + 3, FIRST + 4)
XGM = "SA1_XTD2_XGM/DOOCS/MAIN"
MOD0 = "SPB_DET_AGIPD1M-1/DET/0CH0:xtdf"
MOD1 = "SPB_DET_AGIPD1M-1/DET/1CH0:xtdf"
#: Seconds a test client waits for a train before failing (never hang).
RECV_TIMEOUT = 10


def write_stream_run(run_dir: Path) -> list[Path]:
    """Two AGIPD modules (one with gaps), two data aggregators, sequences of 4 trains."""
    aggs = default_aggregators()
    aggs["AGIPD00"] = [XTDFModule("SPB_DET_AGIPD1M-1/DET/0CH0", frames_per_train=2,
                                  frame_shape=(8, 8))]
    aggs["AGIPD01"] = [XTDFModule("SPB_DET_AGIPD1M-1/DET/1CH0", frames_per_train=2,
                                  frame_shape=(8, 8), skip_trains=SKIPPED)]
    return write_run(run_dir, proposal=900001, run=1, n_trains=N_TRAINS, first_train_id=FIRST,
                     trains_per_sequence=4, aggregators=aggs)


@pytest.fixture(scope="session")
def stream_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run directory (read-only for tests: copy it to modify it)."""
    run_dir = tmp_path_factory.mktemp("stream") / "raw" / "r0001"
    write_stream_run(run_dir)
    return run_dir


@pytest.fixture
def open_stream_run(stream_run: Path) -> Iterator[Any]:
    from extra_catalog import RunDirectory

    with RunDirectory(stream_run, catalog=None) as run:
        yield run
    get_handle_cache().close_all()


class EndpointOut(io.StringIO):
    """Captures a server's output and tells when it printed its endpoint."""

    def __init__(self) -> None:
        super().__init__()
        self.bound = threading.Event()
        self.endpoint = ""

    def write(self, text: str) -> int:
        if text.startswith("Streamer started on: "):
            self.endpoint = text.split(": ", 1)[1].strip()
            self.bound.set()
        return super().write(text)

    def local(self) -> str:
        """The endpoint on 127.0.0.1."""
        assert self.bound.wait(RECV_TIMEOUT), "the server did not start"
        return "tcp://127.0.0.1:" + self.endpoint.rsplit(":", 1)[1]


class ServerThread(threading.Thread):
    """Run a serve function in a thread; keep its result or exception."""

    def __init__(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(daemon=True)
        self.out = EndpointOut()
        kwargs.setdefault("out", self.out)
        self.func, self.args, self.kwargs = func, args, kwargs
        self.result: Any = None
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            self.result = self.func(*self.args, **self.kwargs)
        except BaseException as exc:
            self.error = exc

    def finish(self) -> Any:
        self.join(RECV_TIMEOUT)
        assert not self.is_alive(), "the server did not finish"
        if self.error is not None:
            raise self.error
        return self.result


def client_for(endpoint: str, sock: str = "REQ") -> Any:
    from karabo_bridge import Client

    return Client(endpoint, sock=sock, timeout=RECV_TIMEOUT)


def receive(client: Any, n: int) -> list[tuple[dict, dict]]:
    return [client.next() for _ in range(n)]


def assert_same_train(received: dict, expected: dict) -> None:
    """Received data equals DataCollection.trains() data (arrays, scalars, metadata)."""
    assert set(received) == set(expected)
    for key, value in received.items():
        want = expected[key]
        if isinstance(want, np.ndarray):
            assert isinstance(value, np.ndarray), key
            assert value.dtype == want.dtype and value.shape == want.shape, key
            np.testing.assert_array_equal(value, want, err_msg=key)
        else:
            assert value == (want.item() if isinstance(want, np.generic) else want), key
