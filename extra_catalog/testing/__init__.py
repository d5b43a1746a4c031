"""Mock European XFEL data: files, runs and facility trees in every format version.

Our tests, benchmarks and the ``xfel-index demo`` command use this generator.
Every value is a documented, deterministic function of the train ID and a
seed (see each device class), so tests can assert exact values.

Devices: :class:`XGM`, :class:`Motor`, :class:`Camera`,
:class:`ControlDevice`, :class:`RunOnlyDevice`, :class:`XTDFModule`,
:class:`JUNGFRAUModule`, :class:`AuxiliarySource`.
Writers: :func:`write_file`, :func:`write_run`, :func:`write_tree`,
:func:`write_demo_tree`; growing runs: :func:`grow_file`,
:func:`append_sequence`. Faults: :data:`FAULTS`.
"""

from ._common import FORMAT_VERSIONS, TIMESTAMP_ORIGIN_NS, TRAIN_PERIOD_NS, MockDataError
from .devices import (AuxiliarySource, Camera, ControlDevice, Device, JUNGFRAUModule, Motor,
                      RunOnlyDevice, XGM, XTDFModule)
from .faults import BOGUS_TRAIN_ID, FAULTS, FILE_FAULTS, RUN_FAULTS
from .files import read_recipe, write_file
from .runs import (DETECTORS, append_sequence, default_aggregators, detector_aggregators,
                   file_name, grow_file, write_run)
from .tree import DEFAULT_TREE, DEMO_TREE, ProposalSpec, RunSpec, write_demo_tree, write_tree

__all__ = [
    "FORMAT_VERSIONS", "TIMESTAMP_ORIGIN_NS", "TRAIN_PERIOD_NS", "MockDataError",
    "Device", "XGM", "Motor", "Camera", "ControlDevice", "RunOnlyDevice",
    "XTDFModule", "JUNGFRAUModule", "AuxiliarySource",
    "FAULTS", "FILE_FAULTS", "RUN_FAULTS", "BOGUS_TRAIN_ID",
    "write_file", "read_recipe", "write_run", "grow_file", "append_sequence",
    "default_aggregators", "detector_aggregators", "DETECTORS", "file_name",
    "write_tree", "write_demo_tree", "ProposalSpec", "RunSpec", "DEFAULT_TREE", "DEMO_TREE",
]
