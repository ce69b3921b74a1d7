"""Errors a user can hit. Each names what went wrong and where, and the CLI prints it without a traceback.

The ones that can happen next to the device (a bad frame, a driver or device failure, a missing package) are the
runtime's (spikeflow_runtime.errors), so that one `except SpikeflowError` catches both."""

from spikeflow_runtime.errors import (
    ConfigError,
    DatasetError,
    DeviceTimeoutError,
    DriverError,
    FrameError,
    SpikeflowError,
    ToolMissingError,
)

__all__ = ["BitstreamError", "CheckpointError", "ConfigError", "ConversionError", "DatasetError", "DeviceTimeoutError",
           "DriverError", "ExportError", "FrameError", "HardwareSourcesError", "IRError", "PnrError", "SpikeflowError",
           "StepError", "ToolMissingError", "UnsupportedModuleError"]


class CheckpointError(SpikeflowError):
    """A checkpoint that cannot be read or does not match its config."""


class UnsupportedModuleError(SpikeflowError):
    """The model holds a module the FewdIF conversion cannot map (message names the module)."""


class ExportError(SpikeflowError):
    """QONNX export failed or its check against the Brevitas model did not hold."""


class ConversionError(SpikeflowError):
    """A QONNX node cannot be converted to FewdIF (message names node, op type and reason)."""


class IRError(SpikeflowError):
    """An IR file is missing, of another version or inconsistent."""


class HardwareSourcesError(SpikeflowError):
    """The hardware source folders (rtl/, sim/) of a spikeflow checkout cannot be found."""


class StepError(SpikeflowError):
    """A build step cannot run: its inputs are missing (the message names the step that makes them)."""


class BitstreamError(SpikeflowError):
    """A Vivado or v++ run failed (the message names the log and its first error)."""


class PnrError(SpikeflowError):
    """The open ECP5 flow failed: the design does not fit the part, or Yosys, nextpnr or ecppack stopped (the
    message names the resource, or the log and its relevant lines)."""
