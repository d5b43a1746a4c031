"""Fast detector modules: XTDF (AGIPD, LPD, DSSC) and JUNGFRAU.

``t`` is the train ID, ``h`` the device offset ``name_hash(name, seed) % 1000``.
Pixel formulas are computed modulo 16384 (14-bit ADC range).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._common import MockDataError
from .._h5 import Storage
from ..context import InstrumentKey, WriteContext
from .base import Device, mod
from .slow import entry_counts, entry_trains

__all__ = ["XTDFModule", "JUNGFRAUModule", "XTDF_PIXELS", "XTDF_GAIN_AXIS"]

#: Pixel dimensions of one module frame.
XTDF_PIXELS: dict[str, tuple[int, int]] = {
    "AGIPD": (512, 128), "LPD": (256, 256), "DSSC": (128, 512)}
#: Length of the second axis of raw ``image.data`` (AGIPD stores data and gain).
XTDF_GAIN_AXIS: dict[str, int] = {"AGIPD": 2, "LPD": 1, "DSSC": 1}

_MASK14 = np.uint16(0x3FFF)


def _pixels14(base: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``(base[:, None...] + grid) % 16384`` computed in wrapping uint16.

    65536 is a multiple of 16384, so uint16 overflow keeps the result exact
    while avoiding int64 temporaries for millions of pixels.
    """
    base16 = (base % 16384).astype(np.uint16).reshape((-1,) + (1,) * grid.ndim)
    out = base16 + (grid % 16384).astype(np.uint16)
    out &= _MASK14
    return out


def _storage(ndim_entry: tuple[int, ...], compression: str | None, shuffle: bool) -> Storage:
    return Storage(chunks=(1,) + ndim_entry, compression=compression, shuffle=shuffle)


@dataclass
class XTDFModule(Device):
    """One module of an AGIPD, LPD or DSSC detector.

    Source: *name* if it contains ``':'``, else ``name + ':xtdf'`` (raw) or
    ``name + ':output'`` (corrected). Index groups ``image`` (one entry per
    frame, *frames_per_train* frames per train) and ``header``,
    ``detector``, ``trailer`` (one entry per train); trains in *skip_trains*
    have count 0 in every group.

    Frame ``k`` (0-based within its train) of train ``t``:

    - raw ``image.data`` uint16 ``(N, G, ny, nx)`` (G = 2 for AGIPD, else 1)
      = ``(7t + 3k + 1000g + y + x + h) % 16384``; ``image.cellId`` /
      ``image.pulseId`` / ``image.length`` / ``image.status`` /
      ``image.trainId`` have shape ``(N, 1)``.
    - corrected ``image.data`` float32 ``(N, ny, nx)``
      = ``((7t + 3k + y + x + h) % 16384) * 0.5``; ``image.gain`` uint8
      = ``k % 3``; ``image.mask`` uint32 = ``1`` where ``(y + x + k) % 7 == 0``
      else 0; per-frame keys have shape ``(N,)``.
    - ``image.cellId`` (uint16) = ``k``, ``image.pulseId`` (uint64) = ``4k``,
      ``image.length`` (uint32) = bytes per frame, ``image.status`` (uint16) = 0.

    ``image.data`` has one frame per chunk and the given compression
    (``'gzip'`` = deflate, or None), with the shuffle filter unless
    ``shuffle=False``. *frame_shape* ``(ny, nx)`` overrides the module's pixel
    dimensions so large runs stay small on disk.
    """

    detector: str = "AGIPD"
    frames_per_train: int = 64
    raw: bool = True
    frame_shape: tuple[int, int] | None = None
    compression: str | None = "gzip"
    shuffle: bool = True
    skip_trains: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.detector not in XTDF_PIXELS:
            raise MockDataError(f"XTDFModule {self.name!r}: detector {self.detector!r} is not "
                                f"one of {', '.join(XTDF_PIXELS)}")

    @property
    def source(self) -> str:
        """The instrument source name."""
        if ":" in self.name:
            return self.name
        return f"{self.name}:{'xtdf' if self.raw else 'output'}"

    def source_names(self) -> list[str]:
        return [self.source]

    def write(self, ctx: WriteContext) -> None:
        per_train = entry_counts(ctx.train_ids, 1, self.skip_trains)
        frames = per_train * np.uint64(self.frames_per_train)
        tids, k = entry_trains(ctx.train_ids, frames)
        ctx.add_instrument(self.source, "image", frames, self._image_keys(ctx, tids, k))
        for group, keys in self._train_keys(ctx.train_ids[per_train > 0]).items():
            ctx.add_instrument(self.source, group, per_train, keys)

    def _image_keys(self, ctx: WriteContext, tids: np.ndarray,
                    k: np.ndarray) -> dict[str, InstrumentKey]:
        h = self.hash(ctx.seed)
        ny, nx = self.frame_shape or XTDF_PIXELS[self.detector]
        yx = np.add.outer(np.arange(ny), np.arange(nx))
        base = mod(tids * np.uint64(7) + np.uint64(h), 16384) + 3 * k
        shuffle = self.shuffle
        col = (lambda a: a[:, None]) if self.raw else (lambda a: a)
        if self.raw:
            n_g = XTDF_GAIN_AXIS[self.detector]
            grid = 1000 * np.arange(n_g)[:, None, None] + yx
            data = _pixels14(base, grid)
            entry = (n_g, ny, nx)
        else:
            data = _pixels14(base, yx).astype(np.float32) * np.float32(0.5)
            entry = (ny, nx)
        keys = {
            "data": InstrumentKey(data, _storage(entry, self.compression, shuffle)),
            "cellId": InstrumentKey(col(k.astype(np.uint16))),
            "pulseId": InstrumentKey(col((4 * k).astype(np.uint64))),
            "length": InstrumentKey(col(np.full(len(k), data.itemsize * int(np.prod(entry)),
                                                dtype=np.uint32))),
            "status": InstrumentKey(col(np.zeros(len(k), dtype=np.uint16))),
            "trainId": InstrumentKey(col(tids.astype(np.uint64))),
        }
        if not self.raw:
            keys["gain"] = InstrumentKey(
                np.broadcast_to((k % 3).astype(np.uint8)[:, None, None], (len(k), ny, nx)),
                _storage(entry, self.compression, shuffle))
            mask = ((yx[None] + k[:, None, None]) % 7 == 0).astype(np.uint32)
            keys["mask"] = InstrumentKey(mask, _storage(entry, self.compression, shuffle))
        return keys

    def _train_keys(self, tids: np.ndarray) -> dict[str, dict[str, InstrumentKey]]:
        n = len(tids)
        tid = InstrumentKey(tids.astype(np.uint64))
        return {
            "header": {
                "pulseCount": InstrumentKey(np.full(n, self.frames_per_train, dtype=np.uint64)),
                "majorTrainFormatVersion": InstrumentKey(np.full(n, 2, dtype=np.uint32)),
                "minorTrainFormatVersion": InstrumentKey(np.full(n, 1, dtype=np.uint32)),
                "magicNumberBegin": InstrumentKey(np.tile(np.frombuffer(b"XTDF\0\0\0\0", np.int8),
                                                          (n, 1))),
                "trainId": tid,
            },
            "detector": {"data": InstrumentKey(np.zeros((n, 16), dtype=np.uint8)), "trainId": tid},
            "trailer": {
                "checksum": InstrumentKey(np.zeros((n, 16), dtype=np.int8)),
                "magicNumberEnd": InstrumentKey(np.tile(np.frombuffer(b"XTDFEND\0", np.int8),
                                                        (n, 1))),
                "status": InstrumentKey(np.zeros(n, dtype=np.uint64)),
                "trainId": tid,
            },
        }


@dataclass
class JUNGFRAUModule(Device):
    """One JUNGFRAU module: one entry per train with a memory-cell axis.

    Source: *name* if it contains ``':'``, else ``name + ':daqOutput'`` (raw)
    or ``name + ':output'`` (corrected); index group ``data``. For train
    ``t`` and memory cell ``c`` (C = *memory_cells*):

    - ``data.adc`` ``(N, C, ny, nx)``: raw uint16
      = ``(5t + 7c + y + x + h) % 16384``; corrected float32 = that ``* 0.25``
    - ``data.gain`` uint8 = ``c % 3``; ``data.mask`` uint32 = 0 (corrected only)
    - ``data.memoryCell`` uint8 ``(N, C)`` = ``c``; ``data.frameNumber`` uint64
      ``(N, C)`` = ``t * C + c``; ``data.timestamp`` float64 ``(N, C)``
      = ``t * 0.1 + c * 1e-6``; ``data.trainId`` uint64 = ``t``.

    Image datasets have one (cell) frame per chunk and deflate compression.
    """

    raw: bool = True
    memory_cells: int = 16
    frame_shape: tuple[int, int] = (512, 1024)
    compression: str | None = "gzip"
    skip_trains: tuple[int, ...] = ()

    @property
    def source(self) -> str:
        """The instrument source name."""
        if ":" in self.name:
            return self.name
        return f"{self.name}:{'daqOutput' if self.raw else 'output'}"

    def source_names(self) -> list[str]:
        return [self.source]

    def write(self, ctx: WriteContext) -> None:
        counts = entry_counts(ctx.train_ids, 1, self.skip_trains)
        tids = ctx.train_ids[counts > 0]
        n, n_c = len(tids), self.memory_cells
        ny, nx = self.frame_shape
        h = self.hash(ctx.seed)
        cells = np.arange(n_c)
        grid = 7 * cells[:, None, None] + np.add.outer(np.arange(ny), np.arange(nx))
        adc = _pixels14(mod(tids * np.uint64(5) + np.uint64(h), 16384), grid)
        storage = Storage(chunks=(1, 1, ny, nx), compression=self.compression)
        keys = {
            "adc": InstrumentKey(adc if self.raw else adc.astype(np.float32) * np.float32(0.25),
                                 storage),
            "gain": InstrumentKey(np.broadcast_to((cells % 3).astype(np.uint8)[None, :, None, None],
                                                  (n, n_c, ny, nx)), storage),
            "memoryCell": InstrumentKey(np.tile(cells.astype(np.uint8), (n, 1))),
            "frameNumber": InstrumentKey(tids[:, None] * np.uint64(n_c) + cells.astype(np.uint64)),
            "timestamp": InstrumentKey(tids.astype(np.float64)[:, None] * 0.1 + cells * 1e-6),
            "trainId": InstrumentKey(tids.astype(np.uint64)),
        }
        if not self.raw:
            keys["mask"] = InstrumentKey(np.zeros((n, n_c, ny, nx), dtype=np.uint32), storage)
        ctx.add_instrument(self.source, "data", counts, keys)
