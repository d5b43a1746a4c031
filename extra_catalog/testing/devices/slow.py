"""Slow-data devices: XGM, motor, camera, a generic control device, a RUN-only device.

In the formulas below ``t`` is the train ID and ``h`` the device offset
``name_hash(name, seed) % 1000`` (see :meth:`Device.hash`); every value is a
pure function of them, so tests can recompute what a file must contain.
RUN values are the formulas evaluated at the run's first train.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._h5 import Storage
from ..context import InstrumentKey, WriteContext
from .base import Device, control_property, mod

__all__ = ["XGM", "Motor", "Camera", "ControlDevice", "RunOnlyDevice", "entry_counts"]


def entry_counts(train_ids: np.ndarray, per_train: int, skip_trains: tuple[int, ...]) -> np.ndarray:
    """Entries per train: *per_train*, or 0 for trains in *skip_trains*."""
    counts = np.full(len(train_ids), per_train, dtype=np.uint64)
    if skip_trains:
        counts[np.isin(train_ids, np.asarray(skip_trains, dtype=np.uint64))] = 0
    return counts


def entry_trains(train_ids: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Train ID and index within the train of every entry."""
    tids = np.repeat(train_ids, counts.astype(np.int64))
    starts = np.repeat(np.cumsum(counts) - counts, counts.astype(np.int64))
    within = np.arange(len(tids), dtype=np.int64) - starts.astype(np.int64)
    return tids, within


@dataclass
class XGM(Device):
    """An X-ray gas monitor.

    CONTROL source ``name``:

    - ``beamPosition.ixPos`` (float32, mm) = ``((t + h) % 200) * 0.01 - 1``
    - ``beamPosition.iyPos`` (float32, mm) = ``((t + 2h) % 200) * 0.01 - 1``
    - ``pulseEnergy.photonFlux`` (float32, μJ: unitSymbol ``'J'``,
      metricPrefixSymbol ``'u'``) = ``500 + ((7t + h) % 1000) * 0.5``
    - ``pulseEnergy.wavelengthUsed`` (float32, nm, constant) = ``1 + h * 0.001``
    - ``pulseEnergy.numberOfBunches`` (float32, constant) = ``64``

    RUN-only: ``classId`` = ``'DoocsXGM'``, ``deviceId`` = name.
    INSTRUMENT source ``name + ':output'``, index group ``data``,
    *entries_per_train* entries per train (0 for *skip_trains*):
    ``data.intensityTD`` (float32, 1000 samples), entry ``e`` of train ``t``
    = ``((t + h + e) % 1000) + 0.001 * j`` for sample ``j`` (computed in
    float64); ``data.trainId`` (uint64) = ``t``.
    """

    entries_per_train: int = 1
    skip_trains: tuple[int, ...] = ()

    def source_names(self) -> list[str]:
        return [self.name, f"{self.name}:output"]

    def write(self, ctx: WriteContext) -> None:
        h = self.hash(ctx.seed)
        f4 = np.float32
        props = [
            control_property(ctx, "beamPosition.ixPos",
                             lambda t: (mod(t + np.uint64(h), 200) * 0.01 - 1).astype(f4), unit="mm"),
            control_property(ctx, "beamPosition.iyPos",
                             lambda t: (mod(t + np.uint64(2 * h), 200) * 0.01 - 1).astype(f4),
                             unit="mm"),
            control_property(ctx, "pulseEnergy.photonFlux",
                             lambda t: (500 + mod(t * np.uint64(7) + np.uint64(h), 1000) * 0.5)
                             .astype(f4), unit="uJ"),
            control_property(ctx, "pulseEnergy.wavelengthUsed",
                             lambda t: np.full(len(t), 1 + h * 0.001, dtype=f4),
                             unit="nm", constant=True),
            control_property(ctx, "pulseEnergy.numberOfBunches",
                             lambda t: np.full(len(t), 64, dtype=f4), constant=True),
        ]
        ctx.add_control(self.name, props, run_only={"classId": "DoocsXGM", "deviceId": self.name})
        counts = entry_counts(ctx.train_ids, self.entries_per_train, self.skip_trains)
        tids, within = entry_trains(ctx.train_ids, counts)
        rows = mod(tids + np.uint64(h), 1000) + within
        trace = (rows[:, None] + 0.001 * np.arange(1000)).astype(f4)
        ctx.add_instrument(f"{self.name}:output", "data", counts, {
            "intensityTD": InstrumentKey(trace, Storage(chunks=(16, 1000))),
            "trainId": InstrumentKey(tids.astype(np.uint64)),
        })


@dataclass
class Motor(Device):
    """A motor: CONTROL source ``name``.

    With ``p0 = h % 100`` (float):

    - ``actualPosition`` (float64, mm) = ``p0 + 0.001 * (t % 100000)``
    - ``encoderPosition`` (float64, mm) = ``actualPosition + 0.0005``
    - ``targetPosition`` (float64, mm, constant) = ``p0 + 100``
    - ``state`` (string) = ``'MOVING'`` if ``t % 10 == 0`` else ``'ON'``

    RUN-only: ``classId`` (*class_id*), ``deviceId`` (name).
    """

    class_id: str = "MotorClass"

    def source_names(self) -> list[str]:
        return [self.name]

    def write(self, ctx: WriteContext) -> None:
        p0 = float(self.hash(ctx.seed) % 100)

        def actual(t: np.ndarray) -> np.ndarray:
            return p0 + 0.001 * mod(t, 100_000)

        def state(t: np.ndarray) -> np.ndarray:
            return np.where(mod(t, 10) == 0, "MOVING", "ON").astype(object)

        props = [
            control_property(ctx, "actualPosition", actual, unit="mm"),
            control_property(ctx, "encoderPosition", lambda t: actual(t) + 0.0005, unit="mm"),
            control_property(ctx, "targetPosition", lambda t: np.full(len(t), p0 + 100.0),
                             unit="mm", constant=True),
            control_property(ctx, "state", state),
        ]
        ctx.add_control(self.name, props,
                        run_only={"classId": self.class_id, "deviceId": self.name})


@dataclass
class Camera(Device):
    """A camera: CONTROL settings plus an image output with two index groups.

    CONTROL source ``name``: ``exposureTime`` (float64, μs, constant)
    = ``100 + h % 10``; ``frameRate`` (float64, Hz, constant) = ``10``;
    ``triggerMode`` (string, constant) = ``'EXTERNAL'``. RUN-only
    ``classId`` = ``'CameraClass'``, ``deviceId``.

    INSTRUMENT source ``name + ':daqOutput'`` with index groups ``data`` and
    ``header`` (same counts: *entries_per_train*, 0 for *skip_trains*):
    ``data.image.pixels`` (uint16, *shape*, one frame per chunk, deflate):
    entry ``e`` of train ``t`` = ``(t + h + e + y + x) % 4096``;
    ``data.image.dims`` (uint64, 2) = *shape*; ``data.trainId``;
    ``header.frameNumber`` (uint64) = ``t * entries_per_train + e``;
    ``header.trainId``.
    """

    shape: tuple[int, int] = (64, 80)
    entries_per_train: int = 1
    skip_trains: tuple[int, ...] = ()

    def source_names(self) -> list[str]:
        return [self.name, f"{self.name}:daqOutput"]

    def write(self, ctx: WriteContext) -> None:
        h = self.hash(ctx.seed)
        props = [
            control_property(ctx, "exposureTime", lambda t: np.full(len(t), 100.0 + h % 10),
                             unit="us", constant=True),
            control_property(ctx, "frameRate", lambda t: np.full(len(t), 10.0),
                             unit="Hz", constant=True),
            control_property(ctx, "triggerMode",
                             lambda t: np.full(len(t), "EXTERNAL", dtype=object), constant=True),
        ]
        ctx.add_control(self.name, props, run_only={"classId": "CameraClass", "deviceId": self.name})
        counts = entry_counts(ctx.train_ids, self.entries_per_train, self.skip_trains)
        tids, within = entry_trains(ctx.train_ids, counts)
        ny, nx = self.shape
        base = (mod(tids + np.uint64(h), 4096) + within).astype(np.int64)
        grid = np.add.outer(np.arange(ny), np.arange(nx))
        pixels = ((base[:, None, None] + grid) % 4096).astype(np.uint16)
        source = f"{self.name}:daqOutput"
        ctx.add_instrument(source, "data", counts, {
            "image.pixels": InstrumentKey(pixels, Storage(chunks=(1, ny, nx), compression="gzip")),
            "image.dims": InstrumentKey(np.tile(np.array(self.shape, dtype=np.uint64),
                                                (len(tids), 1))),
            "trainId": InstrumentKey(tids.astype(np.uint64)),
        })
        frame_no = tids * np.uint64(self.entries_per_train) + within.astype(np.uint64)
        ctx.add_instrument(source, "header", counts, {
            "frameNumber": InstrumentKey(frame_no),
            "trainId": InstrumentKey(tids.astype(np.uint64)),
        })


@dataclass
class ControlDevice(Device):
    """A generic slow device with *n_keys* properties (for ~100-source aggregators).

    CONTROL source ``name``: ``value0`` … ``value{n_keys-2}`` (float64;
    ``value0`` in volts) with ``value{i}`` = ``h + i + 0.01 * (t % 1000)``,
    and ``status`` (string, constant) = ``'OK'``. RUN-only ``classId``
    (*class_id*), ``deviceId``.
    """

    n_keys: int = 10
    class_id: str = "GenericDevice"

    def source_names(self) -> list[str]:
        return [self.name]

    def write(self, ctx: WriteContext) -> None:
        h = self.hash(ctx.seed)
        props = []
        for i in range(max(self.n_keys - 1, 0)):
            props.append(control_property(
                ctx, f"value{i}", lambda t, i=i: h + i + 0.01 * mod(t, 1000),
                unit="V" if i == 0 else ""))
        if self.n_keys > 0:
            props.append(control_property(
                ctx, "status", lambda t: np.full(len(t), "OK", dtype=object), constant=True))
        ctx.add_control(self.name, props,
                        run_only={"classId": self.class_id, "deviceId": self.name})


@dataclass
class RunOnlyDevice(Device):
    """A CONTROL source with RUN values only (its CONTROL group is empty).

    RUN: ``setpoint`` (float64, volts, value/timestamp) = ``h * 0.1``,
    ``classId`` (*class_id*), ``deviceId``, ``softwareVersion`` = ``'2.19.0'``.
    Its INDEX counts are all 0.
    """

    class_id: str = "RunOnlyDevice"

    def source_names(self) -> list[str]:
        return [self.name]

    def write(self, ctx: WriteContext) -> None:
        h = self.hash(ctx.seed)
        setpoint = control_property(ctx, "setpoint", lambda t: np.full(len(t), h * 0.1),
                                    unit="V", constant=True)
        ctx.add_control(self.name, [setpoint], with_data=False, run_only={
            "classId": self.class_id, "deviceId": self.name, "softwareVersion": "2.19.0"})
