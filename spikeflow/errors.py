"""Errors a user can hit. Each names what went wrong and where, and the CLI prints it without a traceback."""


class SpikeflowError(Exception):
    """Base class of every error the command line reports cleanly."""


class DatasetError(SpikeflowError):
    """Bad dataset description, missing image or malformed label (message names file and line)."""


class ConfigError(SpikeflowError):
    """Bad model or flow configuration (message names the file and the key)."""


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


class FrameError(SpikeflowError):
    """A frame of the wrong shape, dtype or range was given to a model or device."""


class ToolMissingError(SpikeflowError):
    """An external tool (verilator, yosys, g++, vivado) is not installed."""


class HardwareSourcesError(SpikeflowError):
    """The hardware source folders (rtl/, sim/) of a spikeflow checkout cannot be found."""


class StepError(SpikeflowError):
    """A build step cannot run: its inputs are missing (the message names the step that makes them)."""


class BitstreamError(SpikeflowError):
    """A Vivado or v++ run failed (the message names the log and its first error)."""


class DriverError(SpikeflowError):
    """The host driver or its device failed: a short transfer, a frame error, a result out of sequence."""


class DeviceTimeoutError(DriverError):
    """A device (board or simulated) did not answer within the timeout derived from its expected cycles."""
