"""What the converter knows about each QONNX tensor that FewdIF carries: pixels or spike counts, and their scales."""

from __future__ import annotations

from dataclasses import dataclass

from spikeflow.ir.network import InputKind


@dataclass(frozen=True)
class Activation:
    """A tensor between FewdIF layers: the network input's pixels or a layer's spike counts.

    `scales` is per channel (a count n on channel c stands for n * scales[c]): one scale for a quantized ReLU's
    output, several after a concat of inputs at power-of-two related scales.
    """

    layer: str  # the IR tensor name: NETWORK_INPUT or the layer that produces it
    shape: tuple[int, int, int]  # C, H, W
    scales: tuple[float, ...]  # one per channel
    kind: InputKind
    in_max: int  # 255 for pixels, T for spike counts

    @property
    def unit(self) -> float:
        """The finest scale: a conv reading this tensor accumulates in units of unit x weight scale."""
        return min(self.scales)

    def with_layer(self, layer: str, shape: tuple[int, int, int]) -> Activation:
        """The same counts and scales, produced by `layer` with `shape` (a max-pool or an upsample)."""
        return Activation(layer=layer, shape=shape, scales=self.scales, kind=self.kind, in_max=self.in_max)
