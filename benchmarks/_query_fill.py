"""Synthetic facility-scale catalogue rows for ``bench_query.py`` (no HDF5 files).

A seeded "facility" of proposals, runs, files and sources is written straight
into a catalogue made by :func:`~extra_catalog.catalog.init_catalog` (so the
real tables, indexes and query views are there). The shapes follow EuXFEL:

- about 100 runs per proposal (skewed: a few proposals have many runs), each
  proposal at one of 7 instruments and in one of 18 cycles;
- per instrument a pool of 600 CONTROL devices of 7 kinds (motors, ADCs,
  gauges...) drawn per run with Zipf-like popularity (45-75 per run), 5
  camera INSTRUMENT sources, and for a third of the runs a detector
  (1-16 modules, one file per module and sequence);
- 1-4 sequence files per aggregator, so a run has ~100 file-source rows and
  every file source has its INDEX group(s);
- keysets shared by content (40 variants per device kind), RUN values: each
  motor has its own set per run (position, timestamp, state), other devices
  share a small pool of sets;
- samples and run types from short vocabularies, problems on ~3 % of runs.

Rows carry the encodings the store writes (codec blobs for train IDs,
validity, timestamps and INDEX first/count, run-length key lengths, JSON
metadata and attributes, UInt64 offsets), so ``load_run`` reads them back.

On SQLite rows go in with ``executemany`` (foreign-key checks off for the
load: the rows are consistent by construction); on PostgreSQL with ``COPY``
(replication role ``replica`` skips the per-row foreign-key triggers, which
needs a superuser), then the id sequences are moved past the rows and the
tables analysed.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection

from extra_catalog.catalog import _encode as enc
from extra_catalog.catalog import open_catalog
from extra_catalog.catalog.statistics import refresh_statistics
from extra_catalog.catalog.types import UINT64_OFFSET
from extra_catalog.fileaccess.codec import encode_array

__all__ = ["Facility", "FillStats", "fill_catalogs"]

INSTRUMENTS = ("SPB", "FXE", "MID", "HED", "SCS", "SQS", "SXP")
CYCLES = tuple(f"{year}{half:02d}" for year in range(2018, 2027) for half in (1, 2))
# Instrument -> (detector name, module aggregator prefix, modules).
DETECTORS = {"SPB": ("AGIPD1M-1", "AGIPD", 16), "MID": ("AGIPD1M-1", "AGIPD", 16),
             "FXE": ("LPD1M-1", "LPD", 16), "SCS": ("DSSC1M-1", "DSSC", 16),
             "HED": ("JF4M", "JNGFR", 8), "SQS": ("PNCCD1MP", "PNCCD", 1),
             "SXP": ("EPIX100", "EPIX", 2)}
COMPONENTS = ("XTD2", "XTD9", "IRU", "EXP", "LAS", "OGT", "MONO", "RR", "DIAG", "TSYS")
KINDS: dict[str, tuple[str, ...]] = {
    "MOTOR": ("actualPosition", "encoderPosition", "targetPosition", "velocity", "acceleration",
              "stepLength", "isOnTarget", "epsilon", "offset", "limitPositive", "limitNegative",
              "homeVelocity"),
    "ADC": ("value", "rawValue", "gain", "offset", "samplingRate", "numberOfSamples",
            "threshold", "enabled"),
    "GAUGE": ("pressure", "pressureSetpoint", "gasType", "sensorState", "interlock"),
    "VALVE": ("isOpen", "isClosed", "interlockOk", "openingTime", "closingTime"),
    "XGM": ("pulseEnergy.photonFlux", "pulseEnergy.numberOfBunches", "beamPosition.ixPos",
            "beamPosition.iyPos", "gasDosing.pressure", "signalAdaption.gain"),
    "CAM": ("exposureTime", "frameRate", "triggerMode", "gain", "roi.x", "roi.y",
            "roi.width", "roi.height", "temperature"),
    "TIMER": ("bunchPatternTable", "delay", "triggerRate", "sequenceLength", "enabled"),
}
UNITS = {"actualPosition": "mm", "encoderPosition": "mm", "targetPosition": "mm",
         "velocity": "mm/s", "pressure": "mbar", "exposureTime": "ms", "temperature": "degC",
         "pulseEnergy.photonFlux": "uJ", "delay": "ns"}
DETECTOR_GROUPS = {
    "image": (("data", "<u2", "512,128"), ("cellId", "<u2", "1"), ("pulseId", "<u8", "1"),
              ("length", "<u4", "1"), ("status", "<u2", "1"), ("trainId", "<u8", "1")),
    "header": (("pulseCount", "<u8", ""), ("dataId", "<u8", ""), ("linkId", "<u8", "")),
    "trailer": (("checksum", "|i1", "16"), ("status", "<u8", ""), ("trainId", "<u8", "")),
    "detector": (("data", "|u1", "416"), ("trainId", "<u8", "")),
}
CAMERA_KEYS = (("data.image.pixels", "<u2", "1024,1024"), ("data.image.dims", "<u8", "2"),
               ("data.trainId", "<u8", ""))
SAMPLES = ("Lysozyme", "Lysozyme crystals", "Lysozyme 2", "Gold foil", "Water jet",
           "Silicon wafer", "YAG screen", "Photosystem II", "Myoglobin", "Iron foil",
           "Helium jet", "Xenon clusters", "Ferrocene", "Kr gas", "Diamond anvil cell",
           *(f"Sample {i}" for i in range(285)))
RUN_TYPES = ("SFX", "Dark", "Calibration", "Imaging", "Pump-probe", "Alignment",
             "SASE1 SFX", "Tests", "Timing scan", "Energy scan", "Background")
CHECKS = (("train_ids_order", "train IDs not strictly increasing"),
          ("index_missing", "no first/count in INDEX"),
          ("source_data_missing", "no INSTRUMENT group for a listed source"),
          ("unreadable", "file could not be read"))
FRAMES = 64
FIRST_TRAIN = 1_000_000_000
SECONDS_PER_TRAIN = 0.1


def _digest(label: str) -> str:
    """A 32-character digest, unique per label (the store's digests are content hashes)."""
    return hashlib.sha256(label.encode()).hexdigest()[:32]


def _u64(value: int) -> int:
    """Stored form of an unsigned 64-bit column (see extra_catalog.catalog.types)."""
    return value - UINT64_OFFSET


@dataclass
class _Device:
    name: str
    section: str
    keyset: int
    kind: str


@dataclass
class Facility:
    """The vocabulary of the synthetic facility and what the queries will ask about.

    Built from the seed and the number of runs; :func:`fill_catalog` writes
    it. ``motors`` names the most popular motor of each instrument; the
    first device of a pool is the most popular (in nearly every run).
    """

    n_runs: int
    seed: int = 0
    proposals: list[tuple[int, str, str]] = field(default_factory=list)
    runs_per_proposal: list[int] = field(default_factory=list)
    pools: dict[str, list[_Device]] = field(default_factory=dict)
    popularity: dict[str, np.ndarray] = field(default_factory=dict)
    cameras: dict[str, list[_Device]] = field(default_factory=dict)
    keysets: list[list[tuple[Any, ...]]] = field(default_factory=list)
    motors: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        n_prop = max(1, self.n_runs // 100)
        numbers = 2000 + rng.permutation(8000)[:n_prop]
        self.proposals = [(int(n), str(rng.choice(INSTRUMENTS)), str(rng.choice(CYCLES)))
                          for n in numbers]
        weights = rng.lognormal(0, 1.0, n_prop)
        counts = rng.multinomial(self.n_runs - n_prop, weights / weights.sum()) + 1
        self.runs_per_proposal = [int(c) for c in counts]
        kinds = list(KINDS)
        control = {kind: [self._keyset_control(kind, v) for v in range(40)] for kind in kinds}
        camera = self._keyset(CAMERA_KEYS)
        detector = self._keyset_detector()
        self.detector_keyset = detector
        for instr in INSTRUMENTS:
            pool = []
            for i in range(600):
                kind = kinds[i % len(kinds)]
                comp = COMPONENTS[(i // len(kinds)) % len(COMPONENTS)]
                pool.append(_Device(f"{instr}_{comp}/{kind}/{kind}{i:03d}", "CONTROL",
                                    control[kind][int(rng.integers(40))], kind))
            order = rng.permutation(len(pool))
            self.pools[instr] = [pool[i] for i in order]
            p = 1.0 / np.arange(1, len(pool) + 1) ** 0.9
            self.popularity[instr] = p / p.sum()
            self.motors[instr] = next(d.name for d in self.pools[instr] if d.kind == "MOTOR")
            self.cameras[instr] = [_Device(f"{instr}_EXP_CAM{j:02d}/CAM/CAMERA:daqOutput",
                                           "INSTRUMENT", camera, "CAM") for j in range(40)]

    # -- keysets -----------------------------------------------------------

    def _keyset(self, keys: Sequence[tuple[str, str, str]],
                units: dict[str, str] | None = None) -> int:
        rows = []
        for name, dtype, shape in keys:
            unit = (units or {}).get(name.rsplit(".", 1)[0]) if name.endswith(".value") else None
            attrs = [["unitSymbol", unit], ["metricPrefixSymbol", ""]] if unit else []
            rows.append((name, dtype, shape, None if not shape else shape, None, None, False,
                         unit, json.dumps(attrs, separators=(",", ":"))))
        self.keysets.append(rows)
        return len(self.keysets)  # ids start at 1

    def _keyset_control(self, kind: str, variant: int) -> int:
        props = KINDS[kind]
        chosen = props[: 3 + (variant * 7) % (len(props) - 2)]
        keys = [(f"{p}.{leaf}", "<f8" if leaf == "value" else "<u8", "")
                for p in chosen for leaf in ("value", "timestamp")]
        if variant % 5 == 0:  # an older device version with an extra state property
            keys += [("state.value", "|O", ""), ("state.timestamp", "<u8", "")]
        return self._keyset(keys, UNITS)

    def _keyset_detector(self) -> int:
        return self._keyset([(f"{g}.{k}", dtype, shape) for g, keys in DETECTOR_GROUPS.items()
                             for k, dtype, shape in keys])

    # -- runs ------------------------------------------------------------------

    def iter_runs(self) -> Iterator[tuple[int, int, str, str, int]]:
        """``(proposal_index, run_number, instrument, cycle, proposal_number)`` in order."""
        for index, ((number, instr, cycle), n) in enumerate(
                zip(self.proposals, self.runs_per_proposal)):
            for run in range(1, n + 1):
                yield index, run, instr, cycle, number


@dataclass
class FillStats:
    """Rows written per table; seconds spent making rows and writing them per catalogue."""

    rows: dict[str, int] = field(default_factory=dict)
    generate_seconds: float = 0.0
    write_seconds: dict[str, float] = field(default_factory=dict)
    statistics_seconds: dict[str, float] = field(default_factory=dict)


class _Rows:
    """Row tuples of one batch of runs, per table, with ids assigned here."""

    TABLES = {
        "runs": ("id", "proposal_id", "number", "data_category", "path", "first_train",
                 "last_train", "n_trains", "n_suspect_trains", "n_files", "format_version",
                 "creation_date", "update_date", "sample", "run_type", "indexed_at"),
        "files": ("id", "run_id", "name", "aggregator", "sequence", "size", "mtime", "inode",
                  "state", "format_version", "train_ids", "validity", "timestamps", "metadata"),
        "file_sources": ("id", "file_id", "position", "source_id", "section", "keyset_id",
                         "runvalue_set_id", "key_lengths"),
        "index_groups": ("file_source_id", "position", "name", "first", "count"),
        "runvalue_sets": ("id", "digest"),
        "run_values": ("set_id", "position", "key", "dtype", "shape", "kind", "value_int",
                       "value_float", "value_str", "summary"),
        "problems": ("id", "run_id", "file_id", "position", "check_name", "message", "source",
                     "dataset", "train_id"),
    }

    def __init__(self) -> None:
        self.tables: dict[str, list[tuple[Any, ...]]] = {t: [] for t in self.TABLES}


class _Generator:
    """Turns the facility into rows, batch by batch, keeping the id counters."""

    def __init__(self, facility: Facility, source_ids: dict[str, int], static_sets: dict[str, list[int]],
                 next_set_id: int, indexed_at: Any):
        self.f = facility
        self.rng = np.random.default_rng(facility.seed + 1)
        self.source_ids = source_ids
        self.static_sets = static_sets
        self.next = {"runs": 1, "files": 1, "file_sources": 1, "runvalue_sets": next_set_id,
                     "problems": 1}
        self.train = FIRST_TRAIN
        self.indexed_at = indexed_at
        self._index_blobs: dict[tuple[int, int], tuple[bytes, bytes]] = {}
        self._validity: dict[int, bytes] = {}
        self._lengths: dict[tuple[int, int], str] = {}

    def _id(self, table: str) -> int:
        value = self.next[table]
        self.next[table] = value + 1
        return value

    def batch(self, runs: Sequence[tuple[int, int, str, str, int]]) -> _Rows:
        rows = _Rows()
        for item in runs:
            self._run(rows, *item)
        return rows

    def _run(self, rows: _Rows, prop_index: int, number: int, instr: str, cycle: str,
             prop_number: int) -> None:
        rng = self.rng
        run_id = self._id("runs")
        n_trains = int(np.clip(rng.lognormal(6.9, 0.9), 10, 30000))
        n_seq = int(rng.choice(4, p=(0.7, 0.2, 0.07, 0.03))) + 1
        first = self.train
        self.train += n_trains + int(rng.integers(50, 5000))
        start = datetime(int(cycle[:4]), 1 if cycle.endswith("01") else 7, 1, tzinfo=timezone.utc)
        created = start + timedelta(seconds=(first - FIRST_TRAIN) * SECONDS_PER_TRAIN % 1.5e7)
        sample = str(SAMPLES[min(int(rng.zipf(1.3)) - 1, len(SAMPLES) - 1)]) \
            if rng.random() > 0.3 else None
        run_type = str(rng.choice(RUN_TYPES)) if rng.random() > 0.2 else None
        pool, p = self.f.pools[instr], self.f.popularity[instr]
        chosen = rng.choice(len(pool), int(rng.integers(45, 76)), replace=False, p=p)
        devices = [pool[i] for i in sorted(chosen)]
        cameras = self.f.cameras[instr][:5]
        det, short, n_mod = DETECTORS[instr]
        modules = [f"{instr}_DET_{det}/DET/{m}CH0:xtdf" for m in range(n_mod)] \
            if rng.random() < 1 / 3 else []
        path = f"/gpfs/exfel/exp/{instr}/{cycle}/p{prop_number:06d}/raw/r{number:04d}"
        meta = {"proposal": prop_number, "run": number, "sample": sample or "",
                "run_type": run_type or "", "created": created}
        n_files = 0
        bounds = np.linspace(first, first + n_trains, n_seq + 1).astype(int)
        for seq in range(n_seq):
            t0, n = int(bounds[seq]), int(bounds[seq + 1] - bounds[seq])
            file_id = self._file(rows, run_id, number, "DA01", seq, t0, n, meta)
            self._sources(rows, file_id, devices + cameras, n, run_id)
            n_files += 1
            for m, name in enumerate(modules):
                file_id = self._file(rows, run_id, number, f"{short}{m:02d}",
                                     seq, t0, n, meta)
                self._detector_source(rows, file_id, name, n)
                n_files += 1
        suspect = int(rng.integers(1, 20)) if rng.random() < 0.02 else 0
        stamp = created.strftime("%Y%m%dT%H%M%SZ")
        rows.tables["runs"].append((
            run_id, prop_index + 1, number, "raw", path, _u64(first),
            _u64(first + n_trains - 1), n_trains, suspect, n_files, "1.3", stamp, stamp,
            sample, run_type, self.indexed_at))
        if rng.random() < 0.03:
            for _ in range(int(rng.integers(1, 4))):
                check, message = CHECKS[int(rng.integers(len(CHECKS)))]
                rows.tables["problems"].append((
                    self._id("problems"), run_id, None, None, check, f"{path}: {message}",
                    devices[0].name if check == "source_data_missing" else None, None,
                    _u64(first) if check == "train_ids_order" else None))

    def _file(self, rows: _Rows, run_id: int, number: int, agg: str, seq: int, t0: int, n: int,
              meta: dict[str, Any]) -> int:
        file_id = self._id("files")
        tids = encode_array(np.arange(t0, t0 + n, dtype=np.uint64))
        stamps = encode_array(np.arange(n, dtype=np.uint64) * 100_000_000
                              + np.uint64(int(meta["created"].timestamp()) * 10**9))
        validity = self._validity.get(n)
        if validity is None:
            validity = self._validity[n] = encode_array(np.ones(n, np.uint8))
        metadata = enc.pairs_to_json([
            ("creationDate", meta["created"].strftime("%Y%m%dT%H%M%SZ")),
            ("dataFormatVersion", "1.3"), ("proposalNumber", meta["proposal"]),
            ("runNumber", meta["run"]), ("runType", meta["run_type"]),
            ("sample", meta["sample"]), ("sequenceNumber", seq)])
        rows.tables["files"].append((
            file_id, run_id, f"RAW-R{number:04d}-{agg}-S{seq:05d}.h5", agg, seq,
            int(self.rng.integers(10**6, 10**10)), 1.7e9 + t0 / 10,
            _u64(int(self.rng.integers(1, 2**40))), "ok", "1.3", tids, validity, stamps,
            metadata))
        return file_id

    def _index(self, n: int, per_train: int = 1) -> tuple[bytes, bytes]:
        found = self._index_blobs.get((n, per_train))
        if found is None:
            found = self._index_blobs[n, per_train] = (
                encode_array(np.arange(n, dtype=np.uint64) * per_train),
                encode_array(np.full(n, per_train, np.uint64)))
        return found

    def _key_lengths(self, keyset: int, n: int) -> str:
        key = (keyset, n)
        found = self._lengths.get(key)
        if found is None:
            if keyset == self.f.detector_keyset:
                lengths = [n * FRAMES if row[0].startswith("image.") else n
                           for row in self.f.keysets[keyset - 1]]
            else:
                lengths = [n] * len(self.f.keysets[keyset - 1])
            found = self._lengths[key] = enc.encode_lengths(lengths)
        return found

    def _sources(self, rows: _Rows, file_id: int, devices: Sequence[_Device], n: int,
                 run_id: int) -> None:
        first, count = self._index(n)
        for position, dev in enumerate(devices):
            fs_id = self._id("file_sources")
            value_set = None
            if dev.section == "CONTROL":
                value_set = self._run_values(rows, dev, run_id)
            rows.tables["file_sources"].append((
                fs_id, file_id, position, self.source_ids[dev.name], dev.section, dev.keyset,
                value_set, self._key_lengths(dev.keyset, n)))
            rows.tables["index_groups"].append((fs_id, 0, "", first, count))

    def _run_values(self, rows: _Rows, dev: _Device, run_id: int) -> int:
        """A motor's own RUN values for this run (made once per run), or a shared set."""
        if dev.kind != "MOTOR":
            sets = self.static_sets[dev.kind]
            return sets[zlib.crc32(dev.name.encode()) % len(sets)]
        cache = getattr(self, "_motor_sets", None)
        if cache is None or cache[0] != run_id:
            cache = self._motor_sets = (run_id, {})
        found = cache[1].get(dev.name)
        if found is not None:
            return found
        set_id = cache[1][dev.name] = self._id("runvalue_sets")
        rows.tables["runvalue_sets"].append((set_id, _digest(f"motor {dev.name} {run_id}")))
        position = round(float(self.rng.uniform(-50, 50)), 3)
        stamp = 1_700_000_000 + run_id
        state = ("ON", "STATIC", "MOVING")[run_id % 3]
        rows.tables["run_values"] += [
            (set_id, 0, "actualPosition.value", "<f8", "", "float", None, position,
             repr(position), None),
            (set_id, 1, "actualPosition.timestamp", "<u8", "", "int", stamp, float(stamp),
             None, None),
            (set_id, 2, "state.value", "|O", "", "str", None, None, state, None)]
        return set_id

    def _detector_source(self, rows: _Rows, file_id: int, name: str, n: int) -> None:
        fs_id = self._id("file_sources")
        keyset = self.f.detector_keyset
        rows.tables["file_sources"].append((
            fs_id, file_id, 0, self.source_ids[name], "INSTRUMENT", keyset, None,
            self._key_lengths(keyset, n)))
        for position, group in enumerate(DETECTOR_GROUPS):
            first, count = self._index(n, FRAMES if group == "image" else 1)
            rows.tables["index_groups"].append((fs_id, position, group, first, count))


# UTCDateTime columns: aware datetimes in the rows, converted for SQLite.
_DATETIME_COLUMNS = {"indexed_at", "last_crawled"}


class _Writer:
    """Bulk row writing: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.pg = connection.dialect.name == "postgresql"

    def write(self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        if not rows:
            return
        names = ", ".join(columns)
        moments = [i for i, c in enumerate(columns) if c in _DATETIME_COLUMNS]
        if moments and not self.pg:
            rows = [tuple(self.when(v) if i in moments else v for i, v in enumerate(row))
                    for row in rows]
        if self.pg:
            raw = self.connection.connection.driver_connection
            with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(columns))
            self.connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})",
                                            list(rows))

    def prepare(self) -> None:
        """Session settings for a bulk load."""
        if self.pg:
            self.connection.exec_driver_sql("SET session_replication_role = replica")
            self.connection.commit()
        else:
            # On the driver: a PRAGMA foreign_keys inside a transaction does nothing.
            raw = self.connection.connection.driver_connection
            for pragma in ("foreign_keys = OFF", "synchronous = OFF", "cache_size = -400000"):
                raw.execute(f"PRAGMA {pragma}")

    def finish(self) -> None:
        """Sequences past the written ids and planner statistics (PostgreSQL)."""
        if not self.pg:
            self.connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")
            self.connection.commit()
            return
        with self.connection.begin():
            for table in ("proposals", "runs", "files", "file_sources", "sources", "keysets",
                          "runvalue_sets", "problems"):
                self.connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 1))")
            self.connection.exec_driver_sql("SET session_replication_role = origin")
            # What autovacuum does after a large load (SQLite: see fill_catalogs).
            self.connection.exec_driver_sql("ANALYZE")

    def when(self, moment: datetime) -> Any:
        """A UTC datetime as the UTCDateTime column stores it on this backend."""
        return moment if self.pg else moment.replace(tzinfo=None).strftime(
            "%Y-%m-%d %H:%M:%S.%f")


def _static_rows(facility: Facility, writer: _Writer) -> tuple[dict[str, int], dict[str, list[int]], int]:
    """Proposals, sources, keysets and the shared RUN value sets; returns their ids."""
    now = datetime(2026, 6, 1, tzinfo=timezone.utc)
    writer.write("proposals", ("id", "number", "instrument", "cycle", "last_crawled"),
                 [(i + 1, n, instr, cycle, now)
                  for i, (n, instr, cycle) in enumerate(facility.proposals)])
    names = [d.name for instr in INSTRUMENTS for d in facility.pools[instr]]
    names += [c.name for instr in INSTRUMENTS for c in facility.cameras[instr]]
    names += sorted({f"{instr}_DET_{det}/DET/{m}CH0:xtdf" for instr, (det, _, n) in DETECTORS.items()
                     for m in range(n)})
    source_ids = {name: i + 1 for i, name in enumerate(names)}
    writer.write("sources", ("id", "name"), [(i, n) for n, i in source_ids.items()])
    writer.write("keysets", ("id", "digest", "n_keys"),
                 [(i + 1, _digest(f"keyset {i}"), len(keys))
                  for i, keys in enumerate(facility.keysets)])
    writer.write("keyset_keys", ("keyset_id", "position", "name", "dtype", "entry_shape",
                                 "chunks", "compression", "compression_opts", "shuffle",
                                 "unit", "attrs"),
                 [(i + 1, pos, *key) for i, keys in enumerate(facility.keysets)
                  for pos, key in enumerate(keys)])
    static: dict[str, list[int]] = {}
    set_rows, value_rows = [], []
    for kind, props in KINDS.items():
        for j in range(20):
            set_id = len(set_rows) + 1
            set_rows.append((set_id, _digest(f"static {kind} {j}")))
            static.setdefault(kind, []).append(set_id)
            value = float(j)
            value_rows += [(set_id, 0, f"{props[0]}.value", "<f8", "", "float", None, value,
                            repr(value), None),
                           (set_id, 1, f"{props[0]}.timestamp", "<u8", "", "int", 1_600_000_000 + j,
                            float(1_600_000_000 + j), None, None)]
    writer.write("runvalue_sets", ("id", "digest"), set_rows)
    writer.write("run_values", _Rows.TABLES["run_values"], value_rows)
    return source_ids, static, len(set_rows) + 1


def fill_catalogs(urls: Sequence[str], facility: Facility, *, batch_runs: int = 2000,
                  progress: bool = True, statistics: bool = True) -> FillStats:
    """Write *facility* into each fresh catalogue of *urls* (made by ``init_catalog``).

    Rows are made once per batch of runs and written to every catalogue, so
    the time to make them is paid once; ``write_seconds`` is per URL. With
    *statistics*, SQLite catalogues then get their planner statistics as
    after a crawl (``refresh_statistics``; its time is ``statistics_seconds``).
    """
    stats = FillStats(write_seconds={url: 0.0 for url in urls})
    with ExitStack() as stack:
        writers = {}
        for url in urls:
            catalog = stack.enter_context(open_catalog(url))
            writers[url] = _Writer(stack.enter_context(catalog.engine.connect()))
        for url, writer in writers.items():
            t0 = time.perf_counter()
            writer.prepare()
            with writer.connection.begin():
                ids = _static_rows(facility, writer)
            stats.write_seconds[url] += time.perf_counter() - t0
        source_ids, static, next_set = ids
        generator = _Generator(facility, source_ids, static, next_set,
                               datetime(2026, 6, 1, 12, tzinfo=timezone.utc))
        runs = list(facility.iter_runs())
        for start in range(0, len(runs), batch_runs):
            t0 = time.perf_counter()
            batch = generator.batch(runs[start:start + batch_runs])
            stats.generate_seconds += time.perf_counter() - t0
            for table, rows in batch.tables.items():
                stats.rows[table] = stats.rows.get(table, 0) + len(rows)
            for url, writer in writers.items():
                t0 = time.perf_counter()
                with writer.connection.begin():
                    for table, rows in batch.tables.items():
                        writer.write(table, _Rows.TABLES[table], rows)
                stats.write_seconds[url] += time.perf_counter() - t0
            if progress:
                done = min(start + batch_runs, len(runs))
                print(f"\r  {done:,}/{len(runs):,} runs, "
                      f"{stats.rows.get('file_sources', 0):,} file sources", end="", flush=True)
        if progress:
            print()
        for url, writer in writers.items():
            t0 = time.perf_counter()
            writer.finish()
            stats.write_seconds[url] += time.perf_counter() - t0
    if statistics:
        for url in urls:
            with open_catalog(url) as catalog:
                t0 = time.perf_counter()
                if refresh_statistics(catalog):
                    stats.statistics_seconds[url] = time.perf_counter() - t0
    return stats
