"""Device descriptions for the mock-data generator."""

from .auxiliary import AUX_SECTIONS, AuxiliarySource
from .base import UNITS, Device, device_from_dict
from .detectors import XTDF_GAIN_AXIS, XTDF_PIXELS, JUNGFRAUModule, XTDFModule
from .slow import XGM, Camera, ControlDevice, Motor, RunOnlyDevice

__all__ = [
    "Device", "device_from_dict", "UNITS",
    "XGM", "Motor", "Camera", "ControlDevice", "RunOnlyDevice",
    "XTDFModule", "JUNGFRAUModule", "XTDF_PIXELS", "XTDF_GAIN_AXIS",
    "AuxiliarySource", "AUX_SECTIONS",
]
