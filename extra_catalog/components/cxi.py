"""Virtual CXI files: a detector's frames as one ``(frame, module, ...)`` array.

A CXI 1.5 file (https://www.cxidb.org/cxi.html) whose datasets are HDF5
virtual datasets over the run's module files, so no detector data is copied:
``entry_1/instrument_1/detector_1/{data,gain,mask}`` with every module of the
detector (missing modules and trains read as fill values), per-frame
``entry_1/{trainId,pulseId|memoryCell,cellId,experiment_identifier}``, and
``module_identifier``. The layout comes from the same plan the detector
objects read with (:mod:`.alignment`): INDEX counts only, no file opened to
map the data; the pulse IDs are read to check the modules agree.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import h5py
import numpy as np

from ..exceptions import MultiRunError
from ..reader.writing import write_h5_atomically

if TYPE_CHECKING:
    from .base import MultimodDetectorBase
    from .multimod import MultimodKeyData

__all__ = ["write_virtual_cxi", "DEFAULT_FILL_VALUES"]

log = logging.getLogger(__name__)

#: Fill values for what no module recorded (data: NaN for floats, 0 for integers).
DEFAULT_FILL_VALUES = {"gain": 0, "mask": 0xFFFFFFFF}


@dataclass(frozen=True)
class _Labels:
    """Names of the keys a detector family keeps its frames in."""

    group: str  # 'image' (XTDF) or 'data' (JUNGFRAU)
    image: str  # 'data' or 'adc'
    pulse: str  # 'pulseId' or 'memoryCell'
    cell: str  # 'cellId' or 'memoryCell'
    cells_per_entry: int  # frames in one entry: 1, or JUNGFRAU's memory cells


def _labels(det: MultimodDetectorBase) -> _Labels:
    group, image = det._main_data_key.split(".")
    if group == "image":
        return _Labels(group, image, "pulseId", "cellId", 1)
    return _Labels(group, image, "memoryCell", "memoryCell", det._frames_per_entry)


class _CXILayout:
    """The virtual layouts of one detector's CXI file."""

    def __init__(self, det: MultimodDetectorBase) -> None:
        self.det = det
        self.labels = _labels(det)
        cells = self.labels.cells_per_entry
        counts = det.frame_counts.to_numpy().astype(np.int64) * cells
        self.n_frames = int(counts.sum())
        self.train_ids = np.repeat(det.frame_counts.index.to_numpy(np.uint64), counts)
        self.n_modules = det.n_modules
        self.module_numbers = list(range(det._modnos_start_at,
                                         det._modnos_start_at + det.n_modules))

    def key(self, name: str) -> MultimodKeyData:
        return self.det[f"{self.labels.group}.{name}"]

    def has(self, name: str) -> bool:
        return f"{self.labels.group}.{name}" in self.det

    def frame_shape(self, name: str) -> tuple[int, ...]:
        """Shape of one frame of key *name*, as stored (raw data keeps its gain axis).

        JUNGFRAU's entries hold several memory cells (frames); cell IDs are
        one number per frame (a stored singleton axis is dropped).
        """
        entry = tuple(self.key(name).modno_to_keydata[self._first_module()].entry_shape)
        if self.labels.cells_per_entry > 1:
            return entry[1:]
        if name == self.labels.cell and entry[:1] == (1,):
            return entry[1:]
        return entry

    def _first_module(self) -> int:
        return min(self.det.modno_to_source)

    def layout(self, name: str) -> h5py.VirtualLayout:
        """Every module's frames of key *name*, mapped into ``(frame, module, ...)``."""
        mkd = self.key(name)
        shape = (self.n_frames, self.n_modules) + self.frame_shape(name)
        layout = h5py.VirtualLayout(shape=shape, dtype=mkd.dtype)
        cells = self.labels.cells_per_entry
        n_mapped = 0
        for piece in mkd._plan(module_gaps=True):
            chunk = piece.chunk
            info = chunk.file.key_info(self.det.modno_to_source[self._modno(piece.row)],
                                       f"{self.labels.group}.{name}")
            source = h5py.VirtualSource(chunk.file.filename, chunk.dataset_path,
                                        shape=(info.length, *info.entry_shape), dtype=mkd.dtype)
            rows = source[chunk.slice]
            if cells == 1 and info.entry_shape[:1] == (1,) and len(shape) == len(
                    info.entry_shape) + 1:
                rows = source[chunk.slice, 0]
            layout[piece.slot * cells:(piece.slot + piece.n) * cells, piece.row] = rows
            n_mapped += 1
        log.info("Mapped %d chunks for %s.%s", n_mapped, self.labels.group, name)
        return layout

    def _modno(self, row: int) -> int:
        return row + self.det._modnos_start_at

    def pulse_ids(self) -> np.ndarray:
        """One pulse ID (or memory cell) per frame, checked to agree between modules.

        Raises
        ------
        ValueError
            Some frame has no pulse ID in any module, or modules disagree.
        """
        mkd = self.key(self.labels.pulse)
        values = mkd.ndarray(module_gaps=True, fill_value=0).reshape(self.n_modules, -1)
        have = np.repeat(mkd.data_availability(module_gaps=True),
                         self.labels.cells_per_entry, axis=1)
        if not have.any(axis=0).all():
            raise ValueError("Failed to find pulse IDs for some data")
        high = np.where(have, values, 0).max(axis=0)
        low = np.where(have, values, np.iinfo(values.dtype).max).min(axis=0)
        if (low != high).any():
            raise ValueError("Inconsistent pulse IDs for different modules")
        return low.astype(np.uint64)


def _fill_values(layouts: Mapping[str, h5py.VirtualLayout], image: str,
                 given: Mapping[str, Any] | None) -> dict[str, Any]:
    """Fill value per dataset, cast to its dtype; 'data' also names JUNGFRAU's 'adc'."""
    data_dtype = layouts[image].dtype
    values: dict[str, Any] = {image: np.nan if data_dtype.kind == "f" else 0,
                              **DEFAULT_FILL_VALUES}
    for name, value in (given or {}).items():
        values[image if name == "data" else name] = value
    return {name: layouts[name].dtype.type(value) for name, value in values.items()
            if name in layouts}


def _write(f: h5py.File, cxi: _CXILayout, layouts: dict[str, h5py.VirtualLayout],
           pulse_ids: np.ndarray, fills: dict[str, Any]) -> None:
    labels = cxi.labels
    f.create_dataset("cxi_version", data=[150])
    entry = f.create_group("entry_1")
    ids = [f"{t}:{p}" for t, p in zip(cxi.train_ids.tolist(), pulse_ids.tolist())]
    entry.create_dataset("experiment_identifier", data=ids, dtype=h5py.string_dtype())
    try:
        meta = cxi.det.data.run_metadata()
    except MultiRunError:
        meta = {}
    if "proposalNumber" in meta and "runNumber" in meta:
        entry.attrs["name"] = f"EuXFEL proposal {meta['proposalNumber']} run {meta['runNumber']}"
        # uint32, as METADATA stores them
        entry.attrs["euxfelProposalNumber"] = np.uint32(meta["proposalNumber"])
        entry.attrs["euxfelRunNumber"] = np.uint32(meta["runNumber"])
    entry.create_dataset(labels.pulse, data=pulse_ids)
    entry.create_dataset("trainId", data=cxi.train_ids)
    cells = entry.create_virtual_dataset("cellId", layouts[labels.cell])
    cells.attrs["axes"] = "experiment_identifier:module_identifier"
    det = entry.create_group("instrument_1/detector_1")
    det.attrs["name"] = cxi.det.detector_name
    if len(layouts[labels.image].shape) == 4:
        axes = "experiment_identifier:module_identifier:y:x"
    else:  # raw AGIPD: a data/gain axis
        axes = "experiment_identifier:module_identifier:data_gain:y:x"
        n = layouts[labels.image].shape[2]
        entry.create_dataset("data_gain", data=[labels.image, "gain"][:n],
                             dtype=h5py.string_dtype())
        det["data_gain"] = h5py.SoftLink("/entry_1/data_gain")
    for name, target in ((labels.image, "data"), ("gain", "gain"), ("mask", "mask")):
        if name in layouts:
            ds = det.create_virtual_dataset(target, layouts[name], fillvalue=fills[name])
            ds.attrs["axes"] = axes
    det["experiment_identifier"] = h5py.SoftLink("/entry_1/experiment_identifier")
    f["entry_1/data_1"] = h5py.SoftLink("/entry_1/instrument_1/detector_1")
    det.create_dataset("module_identifier", data=cxi.module_numbers)


def write_virtual_cxi(det: MultimodDetectorBase, filename: str | os.PathLike,
                      fillvalues: Mapping[str, Any] | None = None) -> None:
    """Write a virtual CXI file of *det*'s frames (see the module docstring).

    Parameters
    ----------
    det : AGIPD1M, AGIPD500K, DSSC1M, LPD1M, LPDSolo or JUNGFRAU
    filename : path
        The file to write (replaced if it exists; written under a temporary
        name first).
    fillvalues : dict, optional
        Fill values for ``data``, ``gain`` and ``mask`` where no module has
        data (defaults: NaN or 0 for data, 0 for gain, 0xffffffff for mask).

    Raises
    ------
    ValueError
        Modules disagree on pulse IDs, or some frames have none.
    WriteError
        The file cannot be written.
    """
    cxi = _CXILayout(det)
    labels = cxi.labels
    pulse_ids = cxi.pulse_ids()
    names = [labels.image] + [n for n in ("gain", "mask") if cxi.has(n)]
    layouts = {name: cxi.layout(name) for name in names}
    layouts[labels.cell] = _cell_layout(cxi)
    fills = _fill_values(layouts, labels.image, fillvalues)
    log.info("Writing %d frames of %d modules to %s", cxi.n_frames, cxi.n_modules, filename)
    # HDF5 1.10 format at most, so HDF5 1.10 libraries can read the file.
    write_h5_atomically(det.data, filename,
                        lambda f: _write(f, cxi, layouts, pulse_ids, fills),
                        libver=("v110", "v110"))


def _cell_layout(cxi: _CXILayout) -> h5py.VirtualLayout:
    """Cell IDs as ``(frame, module)``."""
    layout = cxi.layout(cxi.labels.cell)
    if len(layout.shape) == 2:
        return layout
    raise ValueError(f"{cxi.labels.group}.{cxi.labels.cell} has more than one value per frame")
