"""The bitstream step's target for ECP5 boards: their bitstream comes from the open flow's `pnr` step, not from
Vivado, and the bitstream step says so."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spikeflow.errors import ConfigError

if TYPE_CHECKING:
    from spikeflow.backends.bitstream.plan import BitstreamPlan
    from spikeflow.flow.builddir import BuildDir
    from spikeflow.flow.config import BuildConfig


class Ecp5Target:
    kind = "ecp5"

    def prepare(self, build: BuildDir, cfg: BuildConfig) -> BitstreamPlan:
        raise ConfigError(
            f"board {cfg.board.value} ({cfg.board.spec.part}) is an ECP5: its bitstream comes from the open flow's "
            f"pnr step (Yosys synth_ecp5, nextpnr-ecp5, ecppack), not Vivado: run 'spikeflow build {build.root} "
            f"--board {cfg.board.value} --from pnr --to pnr' or 'make pnr BUILD={build.root}'")

    def collect(self, plan: BitstreamPlan, build: BuildDir, cfg: BuildConfig) -> dict[str, Any]:
        return {}
