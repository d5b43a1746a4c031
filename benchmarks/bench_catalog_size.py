"""Catalogue bytes per data file for a realistic large raw run.

The run: 16 AGIPD modules x 31 sequence files (about 20 keys in 4 index
groups each) plus 4 data-aggregator files with 100 control sources of 10 keys
and their RUN values: 500 files. Records are built directly (no HDF5), with
per-train arrays encoded by :mod:`extra_catalog.fileaccess.codec` as the
crawler will store them.

Usage::

    python benchmarks/bench_catalog_size.py                  # temporary SQLite file
    python benchmarks/bench_catalog_size.py --url postgresql+psycopg://postgres@127.0.0.1/bench

The URL's database must be empty or an up-to-date catalogue; runs written by
the benchmark are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
from sqlalchemy import text

from extra_catalog.catalog import (
    RunInfo,
    init_catalog,
    load_run,
    open_catalog,
    remove_run,
    replace_run,
)
from extra_catalog.catalog.engine import Catalog
from extra_catalog.fileaccess.codec import encode_array
from extra_catalog.records import (
    FileRecord,
    IndexGroupRecord,
    KeyRecord,
    RunValueRecord,
    SourceRecord,
)

N_MODULES, N_SEQ, N_DA, TRAINS_PER_SEQ, FRAMES = 16, 31, 4, 250, 352
FIRST_TRAIN = 1_400_000_000
DET_KEYS = {
    "image": [("data", "<u2", (2, 512, 128)), ("cellId", "<u2", (1,)), ("pulseId", "<u8", (1,)),
              ("length", "<u4", (1,)), ("status", "<u2", (1,)), ("trainId", "<u8", (1,))],
    "header": [("dataId", "<u8", ()), ("linkId", "<u8", ()), ("magicNumberBegin", "|i1", (8,)),
               ("majorTrainFormatVersion", "<u4", ()), ("minorTrainFormatVersion", "<u4", ()),
               ("pulseCount", "<u8", ())],
    "trailer": [("checksum", "|i1", (16,)), ("magicNumberEnd", "|i1", (8,)),
                ("status", "<u8", ()), ("trainId", "<u8", ())],
    "detector": [("data", "|u1", (416,)), ("trainId", "<u8", ()), ("dataId", "<u8", ()),
                 ("linkId", "<u8", ())],
}


def _enc(values: np.ndarray) -> bytes:
    return encode_array(np.ascontiguousarray(values))


def _per_train(first_train: int, n: int, rng: np.random.Generator) -> dict[str, bytes]:
    train_ids = np.arange(first_train, first_train + n, dtype=np.uint64)
    stamps = (1_767_268_800_000_000_000 + (train_ids - FIRST_TRAIN) * 100_000_000
              + rng.integers(0, 50_000, n)).astype(np.uint64)
    return {"train_ids": _enc(train_ids), "validity": _enc(np.ones(n, np.uint8)),
            "timestamps": _enc(stamps)}


def _metadata(seq: int, agg: str) -> tuple[tuple[str, object], ...]:
    return (("creationDate", "20260101T120000Z"), ("daqLibrary", "1.x"),
            ("dataFormatVersion", "1.3"), ("karaboFramework", "2.19.0"),
            ("proposalNumber", 900001), ("runNumber", 1), ("runType", "SPB pump-probe"),
            ("sample", "lysozyme crystals"), ("sequenceNumber", seq),
            ("updateDate", f"20260101T12{seq:02d}00Z"), ("aggregator", agg))


def detector_file(run_path: str, module: int, seq: int, rng: np.random.Generator) -> FileRecord:
    first = FIRST_TRAIN + seq * TRAINS_PER_SEQ
    n = TRAINS_PER_SEQ
    groups, keys = [], []
    for group, members in DET_KEYS.items():
        per_train = FRAMES if group == "image" else 1
        groups.append(IndexGroupRecord(group, _enc(np.arange(n, dtype=np.uint64) * per_train),
                                       _enc(np.full(n, per_train, np.uint64))))
        for key, dtype, shape in members:
            chunks = (16, *shape) if shape else (n,)
            keys.append(KeyRecord(f"{group}.{key}", dtype, shape, n * per_train, chunks=chunks,
                                  compression="gzip" if key == "data" else None,
                                  compression_opts=1 if key == "data" else None))
    source = SourceRecord(f"SPB_DET_AGIPD1M-1/DET/{module}CH0:xtdf", "INSTRUMENT",
                          tuple(groups), tuple(keys))
    name = f"RAW-R0001-AGIPD{module:02d}-S{seq:05d}.h5"
    return FileRecord(path=os.path.join(run_path, name), size=8_000_000_000, mtime=1767270000.5,
                      inode=10_000 + module * 100 + seq, format_version="1.3",
                      metadata=_metadata(seq, f"AGIPD{module:02d}"), sources=(source,),
                      legacy_sources=((f"SPB_DET_AGIPD1M-1/DET/{module}CH0:xtdf_legacy",
                                       source.name),),
                      **_per_train(first, n, rng))


def da_file(run_path: str, seq: int, rng: np.random.Generator) -> FileRecord:
    n = N_SEQ * TRAINS_PER_SEQ // N_DA
    first = FIRST_TRAIN + seq * n
    sources = []
    for s in range(100):
        props = [f"prop{p}" for p in range(5)]
        keys = tuple(KeyRecord(f"{p}.{leaf}", "<f8" if leaf == "value" else "<u8", (), n,
                               chunks=(n,),
                               attrs=(("unitSymbol", "J"), ("metricPrefixSymbol", "m"),
                                      ("description", f"property {p}")) if leaf == "value" else ())
                     for p in props for leaf in ("value", "timestamp"))
        run_values = tuple(RunValueRecord(f"{p}.{leaf}", "<f8" if leaf == "value" else "<u8", (),
                                          float(s) if leaf == "value" else 1767268800 + s)
                           for p in props for leaf in ("value", "timestamp"))
        index = IndexGroupRecord("", _enc(np.arange(n, dtype=np.uint64)),
                                 _enc(np.ones(n, np.uint64)))
        sources.append(SourceRecord(f"SPB_XTD9_DEV{s:03d}/MOTOR/AXIS", "CONTROL", (index,),
                                    keys, run_values))
    name = f"RAW-R0001-DA01-S{seq:05d}.h5"
    return FileRecord(path=os.path.join(run_path, name), size=500_000_000, mtime=1767270000.5,
                      inode=20_000 + seq, format_version="1.3", metadata=_metadata(seq, "DA01"),
                      sources=tuple(sources), **_per_train(first, n, rng))


def realistic_run(run_path: str, seed: int = 0) -> list[FileRecord]:
    """The 500 file records of one large raw run."""
    rng = np.random.default_rng(seed)
    files = [detector_file(run_path, m, s, rng) for m in range(N_MODULES) for s in range(N_SEQ)]
    return files + [da_file(run_path, s, rng) for s in range(N_DA)]


def catalogue_bytes(catalog: Catalog) -> int:
    """Bytes the catalogue occupies (SQLite file after checkpoint, or PG relations)."""
    with catalog.session_scope() as session:
        if catalog.is_sqlite:
            session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            pages = session.execute(text("PRAGMA page_count")).scalar_one()
            free = session.execute(text("PRAGMA freelist_count")).scalar_one()
            return (pages - free) * session.execute(text("PRAGMA page_size")).scalar_one()
        return session.execute(text(
            "SELECT SUM(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = current_schema()")).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="catalogue URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.url or os.path.join(tmp, "bench.sqlite")
        init_catalog(url)
        with open_catalog(url) as catalog:
            base = catalogue_bytes(catalog)
            sizes = [base]
            paths = [f"/exp/SPB/202601/p900001/raw/r{r:04d}" for r in (1, 2)]
            for i, path in enumerate(paths):
                files = realistic_run(path, seed=i)
                info = RunInfo("SPB", "202601", 900001, i + 1, "raw", path,
                               first_train=FIRST_TRAIN, last_train=FIRST_TRAIN + 7749,
                               n_trains=7750, format_version="1.3")
                start = time.perf_counter()
                replace_run(catalog, info, files)
                written = time.perf_counter() - start
                start = time.perf_counter()
                loaded = load_run(catalog, path)
                read = time.perf_counter() - start
                assert loaded.files == tuple(sorted(files, key=lambda f: f.path))
                sizes.append(catalogue_bytes(catalog))
                print(f"run {i + 1}: {len(files)} files, write {written:.2f} s, "
                      f"load {read:.2f} s, catalogue +{sizes[-1] - sizes[-2]:,} bytes "
                      f"= {(sizes[-1] - sizes[-2]) / len(files):,.0f} bytes/file")
            for path in paths:
                remove_run(catalog, path)


if __name__ == "__main__":
    main()
