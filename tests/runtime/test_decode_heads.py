"""spikeflow_runtime.decode.decode_heads / decode_heads_float: several heads decoded together, ONE NMS over all their
candidates; with one head the single-head decode unchanged."""

from __future__ import annotations

import numpy as np
import pytest
from spikeflow_runtime.decode import (
    HeadParams,
    anchors_per_head,
    batched_nms,
    decode_float,
    decode_heads,
    decode_heads_float,
    decode_values,
)
from spikeflow_runtime.errors import ConfigError

SIZE = 64
NAMES = ("a", "b")


def head(grid: int, anchors: tuple[tuple[float, float], ...], seed: int) -> HeadParams:
    rng = np.random.default_rng(seed)
    k = len(anchors) * (5 + len(NAMES))
    return HeadParams(num_classes=len(NAMES), anchors=anchors, input_size=SIZE, grid=grid,
                      out_scale=tuple(float(2.0 ** -e) for e in rng.integers(2, 5, size=k)), names=NAMES)


COARSE = head(2, ((40.0, 40.0),), 0)
FINE = head(4, ((10.0, 10.0), (20.0, 20.0)), 1)


def values(params: HeadParams, frames: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-40, 40, size=(frames, params.channels, params.grid, params.grid))


def floats(params: HeadParams, v: np.ndarray) -> np.ndarray:
    scale = np.asarray(params.out_scale, np.float64)[None, :, None, None]
    return (v * scale).astype(np.float32)


def same(a, b) -> bool:
    return len(a) == len(b) and all(np.array_equal(x.boxes, y.boxes) and np.array_equal(x.scores, y.scores)
                                    and np.array_equal(x.labels, y.labels) for x, y in zip(a, b))


def candidates(outputs, heads, conf):
    """Every head's candidates (score > conf) of frame 0, decoded alone with no NMS and no cap."""
    boxes, scores, labels = [], [], []
    for x, h in zip(outputs, heads):
        d = decode_float(x[:1], h, conf, iou_threshold=2.0, max_det=10**6)[0]
        boxes.append(d.boxes)
        scores.append(d.scores)
        labels.append(d.labels)
    return np.concatenate(boxes), np.concatenate(scores), np.concatenate(labels)


@pytest.mark.parametrize("layout", ["channels_first", "stream"])
def test_one_head_is_decode_values(layout) -> None:
    v = values(FINE, 3, 7)
    if layout == "stream":
        v = np.ascontiguousarray(v.transpose(0, 2, 3, 1)).reshape(3, -1)
    for conf in (0.001, 0.2):
        want = decode_values(v, FINE, conf, 0.5, 100, layout=layout)
        assert same(decode_heads([v], [FINE], conf, 0.5, 100, layout=layout), want)
        assert len(want[0]) > 0


def test_two_heads_are_one_nms_over_all_candidates() -> None:
    vc, vf = values(COARSE, 2, 3), values(FINE, 2, 4)
    got = decode_heads([vc, vf], [COARSE, FINE], 0.3, 0.1, 100)
    assert same(got, decode_heads_float([floats(COARSE, vc), floats(FINE, vf)], [COARSE, FINE], 0.3, 0.1, 100))
    boxes, scores, labels = candidates([floats(COARSE, vc), floats(FINE, vf)], [COARSE, FINE], 0.3)
    keep = batched_nms(boxes, scores, labels, 0.1)
    assert len(keep) < len(scores)  # the NMS removed something
    want = sorted(zip(scores[keep].tolist(), labels[keep].tolist(), map(tuple, boxes[keep].tolist())),
                  reverse=True)
    have = sorted(zip(got[0].scores.tolist(), got[0].labels.tolist(), map(tuple, got[0].boxes.tolist())),
                  reverse=True)
    assert have == want
    assert len(got) == 2 and list(got[0].scores) == sorted(got[0].scores, reverse=True)


def test_one_object_seen_by_both_heads_is_kept_once() -> None:
    """The same box, class 0, from the coarse head (cell 0, 0) and the fine head (cell 1, 1, second anchor)."""
    vc = np.full((1, COARSE.channels, 2, 2), -2000)
    vf = np.full((1, FINE.channels, 4, 4), -2000)

    def place(v, params, anchor, gy, gx, wh_logit):
        k = 5 + params.num_classes
        scale = np.asarray(params.out_scale).reshape(-1, k)[anchor]
        for j, logit in enumerate((0.0, 0.0, wh_logit, wh_logit, 6.0, 6.0, -6.0)):
            v[0, anchor * k + j, gy, gx] = round(logit / scale[j])

    # sigmoid(0) = 0.5: centre (0.5*2 - 0.5 + cell) * stride; wh = (2 sigmoid(t))^2 * anchor
    place(vc, COARSE, 0, 0, 0, 0.0)  # centre 16, 16; wh 40
    t = float(np.log(np.sqrt(2.0) / 2 / (1 - np.sqrt(2.0) / 2)))  # (2 sigmoid(t))^2 = 2: wh 40 from anchor 20
    place(vf, FINE, 1, 1, 1, t)  # centre (0.5 + 1) * 16 = 24, 24; wh ~ 40: IoU with the coarse box > 0.5
    alone = decode_values(vc, COARSE, 0.5, 0.45, 100)[0], decode_values(vf, FINE, 0.5, 0.45, 100)[0]
    assert [len(d) for d in alone] == [1, 1]
    (dets,) = decode_heads([vc, vf], [COARSE, FINE], 0.5, 0.45, 100)
    assert len(dets) == 1 and dets.labels.tolist() == [0]
    best = max(alone, key=lambda d: float(d.scores[0]))
    assert np.array_equal(dets.boxes, best.boxes)
    # another class is not suppressed by it
    place(vf, FINE, 1, 1, 1, t)
    vf[0, 1 * 7 + 5, 1, 1], vf[0, 1 * 7 + 6, 1, 1] = -2000, round(6.0 / FINE.out_scale[1 * 7 + 6])
    (dets,) = decode_heads([vc, vf], [COARSE, FINE], 0.5, 0.45, 100)
    assert sorted(dets.labels.tolist()) == [0, 1]


def test_max_det_and_frames_over_heads() -> None:
    vc, vf = values(COARSE, 4, 5), values(FINE, 4, 6)
    got = decode_heads([vc, vf], [COARSE, FINE], 0.001, 0.5, 3)
    assert len(got) == 4 and all(len(d) == 3 for d in got)
    with pytest.raises(ValueError, match="different numbers of frames"):
        decode_heads([vc, vf[:2]], [COARSE, FINE], 0.1, 0.5, 10)
    with pytest.raises(ValueError, match="one array per head"):
        decode_heads([vc], [COARSE, FINE], 0.1, 0.5, 10)
    assert all(len(d) == 0 for d in decode_heads([vc, vf], [COARSE, FINE], 1.0, 0.5, 10))


def test_anchors_per_head() -> None:
    flat = [(40, 40), (10, 10), (20, 20)]
    assert anchors_per_head(flat, [7, 14], 2) == [((40.0, 40.0),), ((10.0, 10.0), (20.0, 20.0))]
    with pytest.raises(ConfigError, match="do not split"):
        anchors_per_head(flat, [7, 7], 2)


def _stream(heads: tuple[HeadParams, ...]):
    from spikeflow_runtime.stream import StreamFormat

    shapes = tuple((h.channels, h.grid, h.grid) for h in heads)
    k, g, _ = shapes[0]
    return StreamFormat(channels=3, height=SIZE, width=SIZE, pixels_per_beat=1, out_channels=k, out_height=g,
                        out_width_px=g, value_bits=16, heads=shapes)


def test_model_json_heads_list_and_single_head_unchanged(tmp_path) -> None:
    from spikeflow_runtime.model import DeployedModel

    one = DeployedModel("m", _stream((FINE,)), FINE, 100.0, 1000, 2000)
    doc = one.to_dict()
    assert "head" in doc and "heads" not in doc and one.heads == (FINE,)
    assert DeployedModel.from_dict(doc) == one
    two = DeployedModel("m", _stream((COARSE, FINE)), COARSE, 100.0, 1000, 2000, heads=(COARSE, FINE))
    doc = two.to_dict()
    assert "heads" in doc and "head" not in doc
    two.save(tmp_path)
    back = DeployedModel.load(tmp_path)
    assert back == two and back.heads == (COARSE, FINE) and back.head == COARSE
    with pytest.raises(ConfigError, match="heads\\[1\\]: missing key 'grid'"):
        DeployedModel.from_dict({**doc, "heads": [doc["heads"][0], {k: v for k, v in doc["heads"][1].items()
                                                                      if k != "grid"}]})
    with pytest.raises(ConfigError, match="1 head\\(s\\) but the stream carries 2"):
        DeployedModel.from_dict({**doc, "heads": doc["heads"][:1]})
    with pytest.raises(ConfigError, match="head \\(one head\\) or heads"):
        DeployedModel.from_dict({k: v for k, v in doc.items() if k != "heads"})


@pytest.mark.slow
def test_shipped_twoscale_decode_heads_gives_its_qat_map(tmp_path) -> None:
    """model/twoscale.pt on its 256 validation images: the golden model's integer values of both heads, decoded
    with decode_heads (stream order too), equal decode_heads_float of the dequantized values and give the
    checkpoint's own QAT mAP (the SNN mAP of model/README.md)."""
    from pathlib import Path

    from spikeflow.convert import convert_qonnx
    from spikeflow.data.loader import build_dataset
    from spikeflow.detect.metrics import evaluate_map
    from spikeflow.frontend.checkpoint import load_detector
    from spikeflow.frontend.evaluate import to_original
    from spikeflow.frontend.export import export_detector
    from spikeflow.golden import run_counts_heads

    model, doc = load_detector(Path(__file__).resolve().parents[2] / "model" / "twoscale.pt")
    cfg = model.cfg
    dataset = build_dataset(None, "val", cfg.input_size, synthetic_count=cfg.train.val_images, seed=cfg.train.seed)
    samples = [dataset[i] for i in range(len(dataset))]
    net = convert_qonnx(export_detector(model, tmp_path / "model.onnx"))
    values = run_counts_heads(net, np.stack([s.image for s in samples]))
    params = [HeadParams(s.num_classes, s.anchors, s.input_size, s.grid, tuple(float(x) for x in h.out_scale),
                         tuple(model.names)) for s, h in zip(model.head_specs, net.heads, strict=True)]
    assert [p.grid for p in params] == [8, 16]
    got = decode_heads(values, params, 0.001, 0.5, 100)
    assert same(got, decode_heads_float([floats(p, v) for p, v in zip(params, values)], params, 0.001, 0.5, 100))
    stream = [np.ascontiguousarray(v.transpose(0, 2, 3, 1)).reshape(v.shape[0], -1) for v in values]
    assert same(decode_heads(stream, params, 0.001, 0.5, 100, layout="stream"), got)
    gt = [(s.letterbox.to_original(s.boxes), s.labels) for s in samples]
    m = evaluate_map([to_original(d, s) for d, s in zip(got, samples)], gt, len(model.names))
    assert m["map50"] == pytest.approx(doc["metrics"]["map50_qat"], abs=1e-9)
