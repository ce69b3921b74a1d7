"""Layers on spike counts that neither integrate nor fire: max-pool, nearest x2 upsampling, channel concat."""

from __future__ import annotations

import math

from onnx import NodeProto
from qonnx.core.modelwrapper import ModelWrapper

from spikeflow.convert.passes import attr, fail
from spikeflow.convert.scales import scale_ratio_exponent
from spikeflow.convert.tensors import Activation
from spikeflow.ir import FewdIFConcat, FewdIFMaxPool, FewdIFUpsample

UPSAMPLE_FACTOR = 2
UPSAMPLE_OPS = ("Resize", "Upsample")


def spike_input(node: NodeProto, x: Activation, what: str) -> Activation:
    if x.kind != "spikes":
        raise fail(node, f"{what} must follow a quantized ReLU (it takes spike counts, not the input pixels)")
    return x


def lower_maxpool(node: NodeProto, x: Activation, timesteps: int) -> tuple[FewdIFMaxPool, Activation]:
    spike_input(node, x, "max-pool")
    k, s = attr(node, "kernel_shape")[0], attr(node, "strides", [1, 1])[0]
    layer = FewdIFMaxPool(name=node.name, in_shape=x.shape, kernel=k, stride=s, timesteps=timesteps,
                          inputs=(x.layer,))
    return layer, x.with_layer(node.name, layer.out_shape)


def nearest_source(size_out: int, size_in: int, scale: float, transform: str, rounding: str) -> list[int] | None:
    """The input index ONNX Resize (mode nearest) reads for each output index, or None for an unknown mode."""
    coords = {"asymmetric": lambda y: y / scale,
              "half_pixel": lambda y: (y + 0.5) / scale - 0.5,
              "pytorch_half_pixel": lambda y: (y + 0.5) / scale - 0.5 if size_out > 1 else 0.0,
              "tf_half_pixel_for_nn": lambda y: (y + 0.5) / scale,
              "align_corners": lambda y: y * (size_in - 1) / (size_out - 1) if size_out > 1 else 0.0}
    rounds = {"round_prefer_floor": lambda v: math.ceil(v - 0.5), "round_prefer_ceil": lambda v: math.floor(v + 0.5),
              "floor": math.floor, "ceil": math.ceil}
    if transform not in coords or rounding not in rounds:
        return None
    return [min(max(rounds[rounding](coords[transform](y)), 0), size_in - 1) for y in range(size_out)]


def lower_upsample(model: ModelWrapper, node: NodeProto, x: Activation,
                   timesteps: int) -> tuple[FewdIFUpsample, Activation]:
    """A Resize (or the older Upsample) in nearest mode by 2 in H and W: FewdIFUpsample; anything else fails."""
    spike_input(node, x, "upsampling")
    mode = attr(node, "mode", "nearest")
    scales_input = 2 if node.op_type == "Resize" else 1
    scales = model.get_initializer(node.input[scales_input]) if len(node.input) > scales_input \
        and node.input[scales_input] else None
    out_shape = model.get_tensor_shape(node.output[0])
    c, h, w = x.shape
    if scales is not None and scales.size == 4:
        factors = [float(v) for v in scales.reshape(-1)]
    elif out_shape is not None and len(out_shape) == 4:
        factors = [1.0, out_shape[1] / c, out_shape[2] / h, out_shape[3] / w]
    else:
        raise fail(node, "scales are not a constant and the output shape is unknown")
    if mode != "nearest" or factors != [1.0, 1.0, UPSAMPLE_FACTOR, UPSAMPLE_FACTOR]:
        raise fail(node, f"only nearest upsampling by {UPSAMPLE_FACTOR} in H and W is supported, not mode {mode} "
                         f"with scales {factors}")
    transform = attr(node, "coordinate_transformation_mode", "half_pixel")
    rounding = attr(node, "nearest_mode", "round_prefer_floor")
    size = 2 * max(h, w)
    if nearest_source(size, size // UPSAMPLE_FACTOR, UPSAMPLE_FACTOR, transform, rounding) != \
            [y // UPSAMPLE_FACTOR for y in range(size)]:
        raise fail(node, f"coordinate_transformation_mode {transform} with nearest_mode {rounding} does not repeat "
                         f"each value on a {UPSAMPLE_FACTOR}x{UPSAMPLE_FACTOR} block")
    layer = FewdIFUpsample(name=node.name, in_shape=x.shape, timesteps=timesteps, factor=UPSAMPLE_FACTOR,
                           inputs=(x.layer,))
    return layer, x.with_layer(node.name, layer.out_shape)


def lower_concat(node: NodeProto, xs: list[Activation], timesteps: int) -> tuple[FewdIFConcat, Activation]:
    """A channel Concat of spike counts on one grid, at scales that are powers of two apart."""
    if attr(node, "axis") not in (1, -3):
        raise fail(node, f"concat along axis {attr(node, 'axis')}; only channels (axis 1) are supported")
    for x in xs:
        spike_input(node, x, "concat")
    if len({x.shape[1:] for x in xs}) != 1:
        raise fail(node, f"inputs on different grids {[x.shape for x in xs]}; a concat joins one grid")
    unit = min(x.unit for x in xs)
    for x in xs:
        for s in set(x.scales):
            if scale_ratio_exponent(s, unit) is None:
                raise fail(node, f"input scales {s:.9g} and {unit:.9g} differ by {s / unit:.6g}, not a power of "
                                 f"two; share one activation quantizer across the concat's inputs")
    layer = FewdIFConcat(name=node.name, in_shapes=tuple(x.shape for x in xs), timesteps=timesteps,
                         inputs=tuple(x.layer for x in xs))
    out = Activation(layer=node.name, shape=layer.out_shape, scales=tuple(s for x in xs for s in x.scales),
                     kind="spikes", in_max=timesteps)
    return layer, out
