"""Small but complete FileRecords for the catalogue tests.

Blobs are opaque to the catalogue, so they are made with struct here: the
tests check they come back byte for byte.
"""

from __future__ import annotations

import os
import struct
from dataclasses import replace

from extra_catalog.catalog import RunInfo
from extra_catalog.records import (
    FileRecord,
    IndexGroupRecord,
    KeyRecord,
    ProblemRecord,
    RunValueRecord,
    SourceRecord,
)

RUN_PATH = "/exp/SPB/202601/p900001/raw/r0001"


def blob(*values: int) -> bytes:
    """Little-endian uint64 values as bytes (a stand-in for codec output)."""
    return struct.pack(f"<{len(values)}Q", *values)


def run_info(path: str = RUN_PATH, *, run: int = 1, proposal: int = 900001,
             category: str = "raw", first: int | None = 10_000,
             last: int | None = 10_099) -> RunInfo:
    return RunInfo(instrument="SPB", cycle="202601", proposal=proposal, run=run,
                   data_category=category, path=path, first_train=first, last_train=last,
                   n_trains=0 if first is None else 100, format_version="1.3",
                   creation_date="20260101T120000Z", sample="lysozyme", run_type="dark")


def control_source(name: str, n_trains: int, *, pos: float = 1.5) -> SourceRecord:
    keys = tuple(
        KeyRecord(name=f"{prop}.{leaf}", dtype="<f8" if leaf == "value" else "<u8",
                  entry_shape=(), length=n_trains, chunks=(256,),
                  attrs=(("unitSymbol", "m"), ("metricPrefixSymbol", "m")) if leaf == "value"
                  else ())
        for prop in ("actualPosition", "targetPosition") for leaf in ("value", "timestamp"))
    run_values = (
        RunValueRecord("actualPosition.value", "<f8", (), pos),
        RunValueRecord("actualPosition.timestamp", "<u8", (), 2**64 - 1),
        RunValueRecord("enabled.value", "|b1", (), True),
        RunValueRecord("count.value", "<i4", (), 1),
        RunValueRecord("negzero.value", "<f8", (), -0.0),
        RunValueRecord("inf.value", "<f8", (), float("-inf")),
        RunValueRecord("state.value", "|O", (), "ON"),
        RunValueRecord("nothing.value", "|O", (), None),
        RunValueRecord("table.value", "<i4", (3, 2), None, summary="(3, 2) int32, 0..5"),
    )
    return SourceRecord(
        name=name, section="CONTROL",
        index_groups=(IndexGroupRecord("", blob(*range(n_trains)), blob(*[1] * n_trains)),),
        keys=keys, run_values=run_values)


def detector_source(module: int, n_trains: int, frames: int = 4) -> SourceRecord:
    name = f"SPB_DET_AGIPD1M-1/DET/{module}CH0:xtdf"
    groups = tuple(IndexGroupRecord(g, blob(*range(0, n_trains * frames, frames)),
                                    blob(*[frames] * n_trains))
                   for g in ("image", "header", "trailer", "detector"))
    keys = (
        KeyRecord("image.data", "<u2", (2, 512, 128), n_trains * frames, chunks=(1, 2, 512, 128),
                  compression="gzip", compression_opts=1, shuffle=True),
        KeyRecord("image.cellId", "<u2", (1,), n_trains * frames),
        KeyRecord("header.pulseCount", "<u8", (), n_trains),
        KeyRecord("trailer.checksum", "|u1", (16,), n_trains),
    )
    return SourceRecord(name=name, section="INSTRUMENT", index_groups=groups, keys=keys)


def file_record(name: str, *, path: str = RUN_PATH, n_trains: int = 10,
                sources: tuple[SourceRecord, ...] | None = None,
                inode: int = 1234, problems: tuple[ProblemRecord, ...] = ()) -> FileRecord:
    if sources is None:
        sources = (control_source("SPB_XTD9_MOTOR/MDL/X", n_trains),)
    return FileRecord(
        path=os.path.join(path, name), size=1_000_000 + len(name), mtime=1767268800.123456,
        inode=inode, format_version="1.3", train_ids=blob(*range(10_000, 10_000 + n_trains)),
        validity=bytes([1] * n_trains), timestamps=blob(*[1767268800_000_000_000] * n_trains),
        metadata=(("creationDate", "20260101T120000Z"), ("dataFormatVersion", "1.3"),
                  ("proposalNumber", 900001), ("runNumber", 1), ("sample", "lysozyme"),
                  ("runType", "dark"), ("weird", 1.0), ("flag", True), ("none", None)),
        sources=sources, problems=problems,
    )


def detector_file(module: int, seq: int, *, path: str = RUN_PATH, n_trains: int = 10) -> FileRecord:
    return file_record(f"RAW-R0001-AGIPD{module:02d}-S{seq:05d}.h5", path=path, n_trains=n_trains,
                       sources=(detector_source(module, n_trains),))


def small_run(path: str = RUN_PATH, *, n_modules: int = 2, n_seqs: int = 2) -> list[FileRecord]:
    """Two DA files plus detector module files; with problems and legacy names."""
    files = [file_record(f"RAW-R0001-DA01-S{s:05d}.h5", path=path, inode=100 + s,
                         problems=(ProblemRecord("train_ids_order", "not increasing",
                                                 train_id=2**64 - 1),
                                   ProblemRecord("index_control", "count 0", "SRC/A", "a.b")))
             for s in range(2)]
    for module in range(n_modules):
        for seq in range(n_seqs):
            record = detector_file(module, seq, path=path)
            legacy = ((f"SPB_DET_AGIPD1M-1/DET/{module}CH0:xtdf_old",
                       f"SPB_DET_AGIPD1M-1/DET/{module}CH0:xtdf"),)
            files.append(replace(record, legacy_sources=legacy))
    return files
