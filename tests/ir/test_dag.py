"""IR version 3: a DAG of named tensors (residual adds, concatenation, upsampling, forks, several heads)."""

import json
from dataclasses import replace

import numpy as np
import pytest

from spikeflow.errors import IRError
from spikeflow.golden import run_counts, run_counts_heads
from spikeflow.hw.cycles import estimate_cycles
from spikeflow.hw.folding import default_folding
from spikeflow.ir import (
    IR_JSON,
    FewdIFConcat,
    FewdIFConv,
    FewdIFHead,
    FewdIFNetwork,
    FewdIFUpsample,
    load_network,
    signed_bits,
)
from spikeflow.ir.random import random_dag_network, random_network


def _residual_dag(seed: int = 0) -> FewdIFNetwork:
    """A random DAG that has a residual conv (the generator places one at random)."""
    for s in range(seed, seed + 50):
        net = random_dag_network(np.random.default_rng(s))
        if any(isinstance(layer, FewdIFConv) and layer.has_residual for layer in net.layers):
            return net
    raise AssertionError("no residual network among 50 seeds")


def _two_head_dag() -> FewdIFNetwork:
    for s in range(50):
        net = random_dag_network(np.random.default_rng(s))
        if len(net.heads) == 2:
            return net
    raise AssertionError("no two-head network among 50 seeds")


def test_a_dag_saves_and_loads_as_version_3(tmp_path) -> None:
    net = _two_head_dag()
    path = net.save(tmp_path)
    doc = json.loads(path.read_text())
    assert doc["ir_version"] == 3
    back = load_network(tmp_path)
    assert [(layer.kind, tuple(layer.inputs)) for layer in back.layers] == \
        [(layer.kind, tuple(layer.inputs)) for layer in net.layers]
    frames = np.random.default_rng(1).integers(0, 256, size=(3, *net.input_shape), dtype=np.uint8)
    for a, b in zip(run_counts_heads(net, frames), run_counts_heads(back, frames), strict=True):
        assert np.array_equal(a, b)


def test_a_version_2_folder_loads_as_a_chain(tmp_path) -> None:
    net = random_network(np.random.default_rng(2))
    path = net.save(tmp_path)
    doc = json.loads(path.read_text())
    doc["ir_version"] = 2
    for entry in doc["layers"]:
        del entry["inputs"]
        entry.pop("residual_shift", None)
    path.write_text(json.dumps(doc))
    back = load_network(tmp_path)
    assert back.is_chain
    frames = np.random.default_rng(3).integers(0, 256, size=(2, *net.input_shape), dtype=np.uint8)
    assert np.array_equal(run_counts(net, frames), run_counts(back, frames))


def test_an_unknown_layer_key_is_named(tmp_path) -> None:
    path = random_network(np.random.default_rng(0)).save(tmp_path)
    doc = json.loads(path.read_text())
    doc["layers"][1]["shortcut"] = "conv0"
    path.write_text(json.dumps(doc))
    with pytest.raises(IRError, match=f"{IR_JSON}: layer 1 .* unknown key 'shortcut'"):
        load_network(tmp_path)


def _break(net: FewdIFNetwork, target: str, **changes: object) -> FewdIFNetwork:
    layers = [replace(layer, **changes) if layer.name == target else layer for layer in net.layers]
    return replace(net, layers=layers)


def _first(net: FewdIFNetwork, kind: type, pred=lambda layer: True):  # noqa: ANN001, ANN202
    return next(layer for layer in net.layers if isinstance(layer, kind) and pred(layer))


def test_validation_names_what_is_wrong() -> None:
    net = _residual_dag()
    res = _first(net, FewdIFConv, lambda c: c.has_residual)
    cases = [
        (_break(net, res.name, inputs=(res.inputs[0], "nowhere")), "'nowhere' is not the network input"),
        (_break(net, res.name, residual_shift=res.residual_shift[:-1]), "one per output channel"),
        (_break(net, res.name, residual_shift=(30,) * res.out_channels), "shifts must be 0..24"),
        (_break(net, res.name, inputs=(res.inputs[0],)), "inputs .* expected 2"),
        (_break(net, res.name, inputs=(res.inputs[0], res.inputs[0])), "must be spike counts of the conv's output"),
        (_break(net, net.layers[1].name, name=net.layers[0].name), "used twice"),
    ]
    first_head = net.heads[0]
    after = net.layers[net.layers.index(first_head) + 1:]
    if after:  # a layer that reads the head instead of its own input
        cases.append((_break(net, after[0].name, inputs=(first_head.name,)), "a head does not fire"))
    for bad, match in cases:
        with pytest.raises(IRError, match=match):
            bad.validate()


def test_a_branch_that_reaches_no_head_is_refused() -> None:
    net = _two_head_dag()
    second = net.heads[1]
    cut = FewdIFNetwork(name=net.name, input_shape=net.input_shape, act_bits=net.act_bits,
                        layers=net.layers[:net.layers.index(second)])
    with pytest.raises(IRError, match="is read by no layer"):
        cut.validate()


def test_a_concat_needs_one_grid() -> None:
    net = _two_head_dag()
    cat = _first(net, FewdIFConcat)
    shapes = list(cat.in_shapes)
    shapes[0] = (shapes[0][0], shapes[0][1] + 1, shapes[0][2])
    with pytest.raises(IRError, match="do not match in_shapes"):
        _break(net, cat.name, in_shapes=tuple(shapes)).validate()


def test_the_residual_widens_the_accumulator() -> None:
    res = _first(_residual_dag(), FewdIFConv, lambda c: c.has_residual)
    w = res.weights.reshape(res.out_channels, -1)
    hi = int((res.bias + np.where(w > 0, w, 0).sum(axis=1) * res.in_max
              + (res.timesteps << np.asarray(res.residual_shift))).max())
    assert res.acc_bits >= signed_bits(0, hi)
    assert res.derive_acc_bits() >= replace(res, residual_shift=()).derive_acc_bits()


def test_a_chain_only_stage_refuses_a_dag_by_name() -> None:
    net = _residual_dag()
    res = _first(net, FewdIFConv, lambda c: c.has_residual)
    with pytest.raises(IRError, match=f"autofold takes a chain of layers; network 'random-dag' is not one: layer "
                                      f"'{res.name}' adds the shortcut"):
        net.require_chain("autofold")
    assert random_network(np.random.default_rng(0)).is_chain
    assert random_network(np.random.default_rng(0)).chain_problem is None


def test_the_cycle_model_and_folding_take_a_dag() -> None:
    net = next(n for n in (random_dag_network(np.random.default_rng(s), two_heads=False) for s in range(40))
               if any(isinstance(layer, FewdIFConcat) for layer in n.layers))
    folding = default_folding(net)
    assert set(folding.layers) == {layer.name for layer in net.layers if isinstance(layer, FewdIFConv | FewdIFHead)}
    rows = {r.layer: r for r in estimate_cycles(net, folding)}
    for layer in net.layers:
        if isinstance(layer, FewdIFConcat | FewdIFUpsample):
            _, h, w = layer.out_shape
            assert rows[layer.name].cycles == h * w  # one output position per cycle


def test_the_cycle_model_counts_every_head_on_the_one_output_stream() -> None:
    net = _two_head_dag()
    rows = {r.layer: r for r in estimate_cycles(net, default_folding(net))}
    values = [k * h * w for k, h, w in net.output_shapes]
    assert rows["output"].cycles == sum(values)  # the heads share m_axis, one value per beat
