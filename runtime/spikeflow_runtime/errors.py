"""Errors a user can hit next to the device. Each names what went wrong and where; `run.py` and the flow's command
line print them on one line (exit code 2) without a traceback. The flow's own errors (spikeflow.errors) derive
from the same base, so one `except SpikeflowError` catches both."""


class SpikeflowError(Exception):
    """Base class of every error the command lines report cleanly."""


class ConfigError(SpikeflowError):
    """A bad setting: a command-line value, a driver.json or model.json key (the message names it)."""


class DatasetError(SpikeflowError):
    """A source that cannot be read as a whole: a missing folder, a folder without images, a bad array file."""


class FrameError(SpikeflowError):
    """A frame of the wrong shape, dtype or range was given to a model or device."""


class ToolMissingError(SpikeflowError):
    """An external tool or optional package (pynq, Pillow, imageio, OpenCV, verilator) is not installed."""


class DriverError(SpikeflowError):
    """The driver or its device failed: a short transfer, a frame error, a result out of sequence."""


class DeviceTimeoutError(DriverError):
    """A device (board or simulated) did not answer within the timeout derived from its expected cycles."""


def missing_package(package: str, purpose: str, extra: str) -> ToolMissingError:
    """The error for an optional package that is not installed, with the command that installs it."""
    return ToolMissingError(f"{purpose} needs the Python package {package}: pip install {package} (or pip install "
                            f"'spikeflow-runtime[{extra}]')")
