"""Where the hardware sources live: the top-level folders `rtl/`, `sim/`, `hls/` (and later
`bitstream_scripts/`) of a spikeflow checkout.

Lookup order: the folder named by the environment variable SPIKEFLOW_HOME, then the checkout this package was
imported from (a source tree or an editable install). A wheel installed elsewhere carries only the Python
package, so it needs SPIKEFLOW_HOME; without it, a HardwareSourcesError says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from spikeflow.errors import HardwareSourcesError

HOME_VARIABLE = "SPIKEFLOW_HOME"
PACKAGE_CHECKOUT = Path(__file__).resolve().parents[2]


def spikeflow_home() -> Path:
    """The spikeflow checkout whose `rtl/` and `sim/` folders the back ends use."""
    configured = os.environ.get(HOME_VARIABLE)
    candidates = [Path(configured)] if configured else [PACKAGE_CHECKOUT]
    for home in candidates:
        if (home / "rtl").is_dir() and (home / "sim").is_dir():
            return home.resolve()
    where = f"{HOME_VARIABLE}={configured}" if configured else f"the package's folder {PACKAGE_CHECKOUT}"
    raise HardwareSourcesError(
        f"the spikeflow hardware sources (rtl/, sim/) were not found in {where}: install spikeflow from a "
        f"checkout (pip install -e .) or set {HOME_VARIABLE} to a spikeflow checkout")


def hardware_folder(name: str) -> Path:
    """A top-level hardware folder of the checkout (rtl, sim, ...), checked to exist."""
    folder = spikeflow_home() / name
    if not folder.is_dir():
        raise HardwareSourcesError(f"{folder} is missing from the spikeflow checkout")
    return folder
