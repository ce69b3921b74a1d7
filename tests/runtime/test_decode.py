"""spikeflow_runtime.decode: the numpy decode and NMS against the flow's former torch post-processing (copied here
as the reference, since the flow now calls the numpy one), on random and crafted heads and on every validation
frame of the shipped tiny and default models."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from spikeflow_runtime import decode as runtime_decode
from spikeflow_runtime.decode import (
    MAX_NMS,
    Detections,
    HeadParams,
    batched_nms,
    box_iou,
    decode_float,
    decode_values,
    nms,
)
from spikeflow_runtime.errors import ConfigError

from spikeflow.detect import Detections as FlowDetections
from spikeflow.detect import HeadSpec, postprocess
from spikeflow.detect import batched_nms as flow_batched_nms
from spikeflow.detect import nms as flow_nms
from spikeflow.detect.head import decode as torch_decode
from spikeflow.detect.nms import box_iou as torch_box_iou

REPO = Path(__file__).resolve().parents[2]


# -- the reference: the flow's torch post-processing before it moved to numpy (decode and box_iou are still the
# flow's torch ones) -----------------------------------------------------------------------------------------------
def ref_nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    b, s = boxes.float().reshape(-1, 4), scores.float().reshape(-1)
    n = b.shape[0]
    if n == 0:
        return torch.zeros(0, dtype=torch.long)
    order = torch.argsort(s, descending=True, stable=True)
    iou = torch_box_iou(b[order], b[order]).triu_(diagonal=1)
    keep = torch.ones(n, dtype=torch.bool)
    for _ in range(n):
        max_iou = (iou * keep[:, None]).amax(dim=0)
        new_keep = max_iou <= iou_threshold
        if torch.equal(new_keep, keep):
            break
        keep = new_keep
    return order[keep]


def ref_batched_nms(boxes: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor, iou: float) -> torch.Tensor:
    b, lab = boxes.float().reshape(-1, 4), labels.float().reshape(-1)
    if b.shape[0] == 0:
        return torch.zeros(0, dtype=torch.long)
    span = float((b.max() - b.min()).item()) + 1.0
    offset = (lab - lab.min()) * span
    return ref_nms(b + offset[:, None], scores, iou)


def ref_postprocess(head_out, spec, conf_threshold: float = 0.001, iou_threshold: float = 0.5,
                    max_det: int = 100) -> list[Detections]:
    with torch.no_grad():
        boxes, obj, cls = torch_decode(torch.as_tensor(np.asarray(head_out, np.float32)), spec)
        scores_all = obj.unsqueeze(-1) * cls
    out = []
    for i in range(boxes.shape[0]):
        sc = scores_all[i]
        idx, lab = torch.nonzero(sc > conf_threshold, as_tuple=True)
        if idx.numel() == 0:
            out.append(Detections.empty())
            continue
        score = sc[idx, lab]
        if score.numel() > MAX_NMS:
            top = torch.topk(score, MAX_NMS).indices
            idx, lab, score = idx[top], lab[top], score[top]
        bx = boxes[i, idx]
        keep = ref_batched_nms(bx, score, lab, iou_threshold)[:max_det]
        out.append(Detections(bx[keep].numpy(), score[keep].numpy(), lab[keep].numpy().astype(np.int64)))
    return out


# -- helpers ---------------------------------------------------------------------------------------------------------
def assert_same(got: list[Detections], ref: list[Detections]) -> None:
    """The same detections in the same order: labels equal, boxes within 1e-4, scores within 1e-6."""
    assert len(got) == len(ref)
    for i, (g, r) in enumerate(zip(got, ref)):
        assert g.boxes.dtype == np.float32 and g.scores.dtype == np.float32 and g.labels.dtype == np.int64
        assert g.boxes.shape == (len(g), 4)
        assert len(g) == len(r), f"frame {i}: {len(g)} detections, reference {len(r)}"
        np.testing.assert_array_equal(g.labels, r.labels, err_msg=f"frame {i}")
        np.testing.assert_allclose(g.boxes, r.boxes, rtol=0, atol=1e-4, err_msg=f"frame {i}")
        np.testing.assert_allclose(g.scores, r.scores, rtol=0, atol=1e-6, err_msg=f"frame {i}")


def assert_equal(got: list[Detections], ref: list[Detections]) -> None:
    assert len(got) == len(ref)
    for i, (g, r) in enumerate(zip(got, ref)):
        for a, b in ((g.boxes, r.boxes), (g.scores, r.scores), (g.labels, r.labels)):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b, err_msg=f"frame {i}")


def params_of(spec: HeadSpec, scale: np.ndarray) -> HeadParams:
    return HeadParams(spec.num_classes, spec.anchors, spec.input_size, spec.grid, tuple(float(s) for s in scale),
                      tuple(f"c{i}" for i in range(spec.num_classes)))


def spec_of(nc: int = 3, size: int = 128, grid: int = 8, anchors=((15.0, 15.0), (32.0, 32.0), (54.0, 54.0))):
    return HeadSpec(num_classes=nc, anchors=anchors, input_size=size, grid=grid)


def random_head(rng: np.random.Generator, spec: HeadSpec, n: int, obj_shift: float = -3.0) -> np.ndarray:
    x = rng.normal(0.0, 2.0, (n, spec.num_anchors, 5 + spec.num_classes, spec.grid, spec.grid))
    x[:, :, 4] += obj_shift
    return x.reshape(n, spec.channels, spec.grid, spec.grid).astype(np.float32)


def dequantized(v: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """How the flow dequantizes (spikeflow.golden.count.dequantize), then float32 as the decode reads it."""
    return (v.astype(np.float64) * scale[None, :, None, None]).astype(np.float32)


def to_stream(v: np.ndarray) -> np.ndarray:
    """[N, K, G, G] -> the device's output order [N, G*G*K] (positions row-major, channel fastest)."""
    return np.ascontiguousarray(v.transpose(0, 2, 3, 1)).reshape(v.shape[0], -1)


# -- against the torch reference ------------------------------------------------------------------------------------
@pytest.mark.parametrize("conf,iou,max_det", [(0.001, 0.5, 100), (0.25, 0.45, 100), (0.05, 0.3, 7),
                                              (0.0, 0.6, 50)])
@pytest.mark.parametrize("nc", [1, 4])
def test_decode_float_matches_torch_on_random_heads(conf: float, iou: float, max_det: int, nc: int) -> None:
    spec = spec_of(nc=nc)
    head = random_head(np.random.default_rng(nc), spec, 6)
    ref = ref_postprocess(head, spec, conf, iou, max_det)
    assert sum(len(d) for d in ref) > 6  # something to compare
    assert_same(decode_float(head, spec, conf, iou, max_det), ref)
    assert_same(decode_float(head[2], spec, conf, iou, max_det), ref[2:3])


def test_decode_float_matches_torch_beyond_max_nms() -> None:
    spec = spec_of(nc=12, size=256, grid=20)
    head = random_head(np.random.default_rng(3), spec, 2, obj_shift=2.0)
    head[1, 4::17] -= 14.0  # the second frame: few candidates
    _, obj, cls = torch_decode(head, spec)
    candidates = (obj[:, :, None] * cls > 0.001).sum(dim=(1, 2))
    assert candidates[0] > 3 * MAX_NMS and 0 < candidates[1] < MAX_NMS
    for iou, max_det in ((0.5, 100), (0.7, 300)):
        assert_same(decode_float(head, spec, 0.001, iou, max_det), ref_postprocess(head, spec, 0.001, iou, max_det))


def test_ties_at_the_max_nms_cut_go_to_the_first_rows() -> None:
    spec = spec_of(nc=80, grid=16)  # every row x class scores 0.25: 61440 tied candidates
    head = np.zeros((1, spec.channels, 16, 16), np.float32)
    dets = decode_float(head, spec, 0.001, 1.0, MAX_NMS)[0]
    assert len(dets) == MAX_NMS and np.all(dets.scores == np.float32(0.25))
    np.testing.assert_array_equal(dets.labels, np.arange(MAX_NMS) % 80)  # rows 0..37 in (row, class) order
    boxes, _, _ = torch_decode(head, spec)
    np.testing.assert_array_equal(dets.boxes, boxes[0].numpy()[np.arange(MAX_NMS) // 80])


def _one_box_head(spec: HeadSpec, cells: list[tuple[int, int, int]], obj: float = 3.0,
                  cls: dict[int, float] | None = None) -> np.ndarray:
    """A head where each (gy, gx, a) cell holds a box of its anchor's size at the cell's centre (box logits 0)."""
    no = 5 + spec.num_classes
    head = np.full((1, spec.num_anchors, no, spec.grid, spec.grid), -30.0, np.float32)
    for gy, gx, a in cells:
        head[0, a, :4, gy, gx] = 0.0
        head[0, a, 4, gy, gx] = obj
        for c, logit in (cls or {0: 3.0}).items():
            head[0, a, 5 + c, gy, gx] = logit
    return head.reshape(1, spec.channels, spec.grid, spec.grid)


def test_equal_scores_keep_row_order() -> None:
    spec = spec_of(nc=3)
    cells = [(5, 1, 2), (0, 7, 1), (3, 3, 0), (0, 0, 0), (7, 7, 2)]  # far apart, same logits: equal scores
    head = _one_box_head(spec, cells, cls={0: 2.0, 2: 2.0})
    dets = decode_float(head, spec, 0.1, 0.5, 100)
    assert_same(dets, ref_postprocess(head, spec, 0.1, 0.5, 100))
    assert len(set(dets[0].scores.tolist())) == 1 and len(dets[0]) == 10
    expected = []  # row order (gy, gx, a), then class order; box logits 0: the anchor at the cell's centre
    for gy, gx, a in sorted(cells):
        (w, h), cx, cy = spec.anchors[a], (gx + 0.5) * spec.stride, (gy + 0.5) * spec.stride
        expected += [[cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]] * 2
    np.testing.assert_allclose(dets[0].boxes, expected, atol=1e-4)
    assert dets[0].labels.tolist() == [0, 2] * 5


@pytest.mark.parametrize("iou,kept", [(0.5, 2), (0.49, 1)])
def test_boxes_exactly_at_the_iou_threshold(iou: float, kept: int) -> None:
    # 48 px boxes one stride (16 px) apart: IoU = 32/64 = 0.5 exactly; kept at 0.5 (suppressed when > threshold)
    spec = spec_of(nc=2, anchors=((48.0, 48.0),))
    head = _one_box_head(spec, [(4, 4, 0), (4, 5, 0)])
    head[0, 4, 4, 5] = 2.0  # the second box scores lower
    dets = decode_float(head, spec, 0.25, iou, 100)
    assert len(dets[0]) == kept
    assert_same(dets, ref_postprocess(head, spec, 0.25, iou, 100))
    assert box_iou(dets[0].boxes[:1], dets[0].boxes[1:]).tolist() == ([[0.5]] if kept == 2 else [[]])


def test_several_classes_do_not_suppress_each_other() -> None:
    spec = spec_of(nc=4)
    head = _one_box_head(spec, [(2, 2, 1), (2, 3, 1)], cls={1: 4.0, 3: 1.0})
    dets = decode_float(head, spec, 0.25, 0.1, 100)[0]
    # IoU 1/3 > 0.1: per class, the second cell's box (equal score, later row) goes; across classes nothing does
    assert dets.labels.tolist() == [1, 3]
    np.testing.assert_array_equal(dets.boxes[0], dets.boxes[1])
    assert_same([dets], ref_postprocess(head, spec, 0.25, 0.1, 100))


def test_empty_heads_and_batches() -> None:
    spec = spec_of()
    head = np.full((3, spec.channels, 8, 8), -20.0, np.float32)
    head[1] = random_head(np.random.default_rng(0), spec, 1)[0]
    dets = decode_float(head, spec, 0.25, 0.45, 100)
    assert [len(d) for d in dets][0::2] == [0, 0] and len(dets[1]) > 0
    assert_same(dets, ref_postprocess(head, spec, 0.25, 0.45, 100))
    assert decode_float(head[:0], spec, 0.25, 0.45, 100) == []
    assert [len(d) for d in decode_float(head, spec, 1.0, 0.45, 100)] == [0, 0, 0]
    assert [len(d) for d in decode_float(head, spec, 0.25, 0.45, 0)] == [0, 0, 0]
    v = np.zeros((2, spec.channels, 8, 8), np.int64)
    assert [len(d) for d in decode_values(v, params_of(spec, np.full(spec.channels, 1.0)), 0.6, 0.5, 9)] == [0, 0]


def test_nms_matches_torch_reference() -> None:
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 60, (300, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(2, 40, (300, 2))], 1).astype(np.float32)
    boxes[10] = boxes[11] = boxes[12]  # identical boxes
    boxes[20] = boxes[21] + np.float32([0, 0, 0, 0])
    scores = rng.uniform(0, 1, 300).astype(np.float32)
    scores[30:40] = scores[40]  # ties
    labels = rng.integers(0, 4, 300)
    tb, ts, tl = torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(labels)
    for iou in (0.0, 0.3, 0.5, 0.9, 1.0):
        ref = ref_nms(tb, ts, iou).numpy()
        assert nms(boxes, scores, iou).tolist() == ref.tolist()
        assert flow_nms(tb, ts, iou).tolist() == ref.tolist()
        ref = ref_batched_nms(tb, ts, tl, iou).numpy()
        assert batched_nms(boxes, scores, labels, iou).tolist() == ref.tolist()
        assert flow_batched_nms(tb, ts, tl, iou).tolist() == ref.tolist()
    assert nms(boxes, scores, -0.1).tolist() == ref_nms(tb, ts, -0.1).tolist() == []
    np.testing.assert_array_equal(box_iou(boxes, boxes[:50]), torch_box_iou(tb, tb[:50]).numpy())
    with pytest.raises(ValueError, match="3 boxes but 2 scores"):
        nms(boxes[:3], scores[:2], 0.5)


def test_nms_in_small_chunks_of_pairs(monkeypatch) -> None:
    spec = spec_of(nc=2)
    head = random_head(np.random.default_rng(6), spec, 4, obj_shift=0.0)
    whole = decode_float(head, spec, 0.01, 0.5, 100)
    monkeypatch.setattr(runtime_decode, "_PAIR_CHUNK", 7)
    assert_equal(decode_float(head, spec, 0.01, 0.5, 100), whole)
    boxes = np.concatenate([d.boxes for d in whole])
    scores = np.concatenate([d.scores for d in whole])
    ref = ref_nms(torch.from_numpy(boxes), torch.from_numpy(scores), 0.2).tolist()
    assert nms(boxes, scores, 0.2).tolist() == ref and len(ref) < len(scores)


# -- decode_values: the integer hot path ----------------------------------------------------------------------------
def _random_values(rng: np.random.Generator, spec: HeadSpec, n: int, po2: bool) -> tuple[np.ndarray, np.ndarray]:
    scale = 2.0 ** rng.integers(-9, -5, spec.channels) if po2 else rng.uniform(0.002, 0.03, spec.channels)
    v = np.rint(random_head(rng, spec, n) / scale[None, :, None, None]).astype(np.int64)
    return v, scale


@pytest.mark.parametrize("po2", [True, False])
@pytest.mark.parametrize("conf,iou,max_det", [(0.25, 0.45, 100), (0.001, 0.5, 100), (0.0, 0.5, 20),
                                              (0.9, 0.45, 100), (0.05, 0.3, 3)])
def test_decode_values_equals_decode_float_of_dequantized(po2: bool, conf: float, iou: float, max_det: int) -> None:
    spec = spec_of(nc=4, grid=12)
    v, scale = _random_values(np.random.default_rng(11), spec, 8, po2)
    params = params_of(spec, scale)
    ref = decode_float(dequantized(v, scale), spec, conf, iou, max_det)
    assert sum(len(d) for d in ref) > 0 or conf == 0.9
    assert_equal(decode_values(v, params, conf, iou, max_det), ref)
    assert_equal(decode_values(v.astype(np.int32), params, conf, iou, max_det), ref)
    assert_same(ref[:2], ref_postprocess(dequantized(v[:2], scale), spec, conf, iou, max_det))


def test_decode_values_in_stream_order() -> None:
    spec = spec_of(nc=2, grid=16)
    v, scale = _random_values(np.random.default_rng(2), spec, 5, po2=True)
    params = params_of(spec, scale)
    ref = decode_values(v, params, 0.25, 0.45, 100)
    assert sum(len(d) for d in ref) > 5
    stream = to_stream(v)
    assert stream.shape == (5, 16 * 16 * spec.channels)
    assert_equal(decode_values(stream, params, 0.25, 0.45, 100), ref)
    assert_equal(decode_values(stream.reshape(5, 16, 16, -1), params, 0.25, 0.45, 100), ref)
    assert_equal(decode_values(stream[3], params, 0.25, 0.45, 100), ref[3:4])
    assert_equal(decode_values(v[3], params, 0.25, 0.45, 100), ref[3:4])
    assert_equal(decode_values(stream.astype(np.int16), params, 0.25, 0.45, 100, layout="stream"), ref)
    with pytest.raises(ValueError, match="match neither"):
        decode_values(stream[:, 1:], params, 0.25, 0.45, 100)
    with pytest.raises(ValueError, match="match neither"):
        decode_values(v, params, 0.25, 0.45, 100, layout="stream")


def test_decode_values_needs_a_layout_when_k_equals_g() -> None:
    spec = spec_of(nc=4, grid=27, size=270)  # K = 3 * 9 = 27 = G
    v, scale = _random_values(np.random.default_rng(4), spec, 2, po2=True)
    params = params_of(spec, scale)
    with pytest.raises(ValueError, match="pass layout="):
        decode_values(v, params, 0.25, 0.45, 100)
    ref = decode_float(dequantized(v, scale), spec, 0.25, 0.45, 100)
    assert sum(len(d) for d in ref) > 0
    assert_equal(decode_values(v, params, 0.25, 0.45, 100, layout="channels_first"), ref)
    assert_equal(decode_values(to_stream(v).reshape(2, 27, 27, 27), params, 0.25, 0.45, 100, layout="stream"), ref)


@pytest.mark.parametrize("conf", [0.001, 0.1, 0.25, 0.5, 0.73, 0.999])
def test_the_objectness_prefilter_loses_no_candidate(conf: float) -> None:
    """Values packed around the objectness bound (class logits so high that score = objectness): exactly the rows
    whose float32 score is > conf come out, counted with a plain float32 sigmoid here."""
    rng = np.random.default_rng(int(conf * 1000))
    spec = spec_of(nc=1, grid=16)
    scale = rng.uniform(0.001, 0.2, spec.channels)
    obj_scale = scale.reshape(3, 6)[:, 4]
    logit = np.log(conf / (1 - conf))
    v = np.zeros((2, 3, 6, 16, 16), np.int64)
    v[:, :, 5] = 10 ** 6  # class probability 1.0
    for a in range(3):
        centre = int(np.floor(logit / obj_scale[a]))
        v[:, a, 4] = centre + rng.integers(-6, 7, (2, 16, 16))
    v = v.reshape(2, spec.channels, 16, 16)
    x = dequantized(v, scale).reshape(2, 3, 6, 16, 16)[:, :, 4]
    with np.errstate(over="ignore"):
        score = np.float32(1) / (np.float32(1) + np.exp(-x.astype(np.float64)).astype(np.float32))
    expected = (score > np.float32(conf)).sum(axis=(1, 2, 3))
    assert expected.min() > 0 and expected.max() < 3 * 256  # the bound cuts through the values
    dets = decode_values(v, params_of(spec, scale), conf, 1.0, 10 ** 6)
    assert [len(d) for d in dets] == expected.tolist()
    assert [len(d) for d in decode_float(dequantized(v, scale), spec, conf, 1.0, 10 ** 6)] == expected.tolist()


# -- HeadParams ------------------------------------------------------------------------------------------------------
def test_head_params_properties_and_round_trip() -> None:
    p = HeadParams(num_classes=2, anchors=[[8, 8], (16, 12.5)], input_size=64, grid=8,
                   out_scale=[2.0 ** -7] * 14, names=["cat", "dog"])
    assert (p.num_anchors, p.channels, p.stride) == (2, 14, 8.0)
    assert p.anchors == ((8.0, 8.0), (16.0, 12.5)) and p.names == ("cat", "dog")
    assert hash(p) == hash(HeadParams.from_dict(p.to_dict()))
    assert HeadParams.from_dict(json.loads(json.dumps(p.to_dict())), where="model.json: head") == p


@pytest.mark.parametrize("change,message", [
    ({"num_classes": 0}, "key 'num_classes' must be an integer >= 1"),
    ({"grid": 2.5}, "key 'grid' must be an integer >= 1"),
    ({"input_size": True}, "key 'input_size' must be an integer >= 1"),
    ({"anchors": []}, "key 'anchors' must be a non-empty list"),
    ({"anchors": [[8, 8, 8]]}, "key 'anchors' must be (w, h) pairs"),
    ({"anchors": [[8, -1]]}, "key 'anchors' must hold positive finite numbers"),
    ({"out_scale": [0.5] * 13}, "key 'out_scale' has 13 entries; the head has 14 channels"),
    ({"out_scale": [0.5] * 13 + [float("nan")]}, "key 'out_scale' must hold positive finite numbers"),
    ({"names": ["cat"]}, "key 'names' has 1 class names; num_classes is 2"),
    ({"names": "catdog"}, "key 'names' must be a list of class names"),
    ({"colour": "red"}, "unknown key 'colour'"),
])
def test_head_params_errors_name_the_key(change: dict, message: str) -> None:
    good = {"num_classes": 2, "anchors": [[8, 8], [16, 16]], "input_size": 64, "grid": 8, "out_scale": [0.5] * 14,
            "names": ["cat", "dog"]}
    with pytest.raises(ConfigError, match=f"^driver.json: head: .*{message.replace('(', '.').replace(')', '.')}"):
        HeadParams.from_dict({**good, **change}, where="driver.json: head")
    if "colour" not in change:
        with pytest.raises(ConfigError, match="^HeadParams: "):
            HeadParams(**{**good, **change})
    del good["out_scale"]
    with pytest.raises(ConfigError, match="^m.json: missing key 'out_scale'$"):
        HeadParams.from_dict(good, where="m.json")


# -- the flow uses the runtime's decode ------------------------------------------------------------------------------
def test_flow_postprocess_is_the_runtime_decode() -> None:
    spec = spec_of()
    head = random_head(np.random.default_rng(8), spec, 3)
    assert FlowDetections is Detections
    got = postprocess(torch.from_numpy(head).requires_grad_(), spec, 0.01, 0.5, 50)
    assert_equal(got, decode_float(head, spec, 0.01, 0.5, 50))
    assert_equal(postprocess(head.astype(np.float64), spec, 0.01, 0.5, 50), got)
    with pytest.raises(ValueError, match="does not match the head"):
        postprocess(head[:, 1:], spec)


def test_runtime_decode_imports_numpy_only() -> None:
    code = ("import sys, spikeflow_runtime.decode; bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'spikeflow', 'brevitas', 'onnx')); assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO / "runtime")


# -- every validation frame of the shipped models --------------------------------------------------------------------
@pytest.fixture(scope="module", params=["tiny", "default"])
def shipped(request, tmp_path_factory):
    """A shipped checkpoint's validation set (the one its mAP is measured on), exported, converted to the IR and run
    through the golden model: (checkpoint doc, HeadSpec, HeadParams, samples, head values V [N, K, G, G])."""
    from spikeflow.convert import convert_qonnx
    from spikeflow.data.loader import build_dataset
    from spikeflow.frontend.checkpoint import load_detector
    from spikeflow.frontend.export import export_detector
    from spikeflow.golden.count import run_counts

    model, doc = load_detector(REPO / "model" / f"{request.param}.pt")
    cfg = model.cfg
    dataset = build_dataset(None, "val", cfg.input_size, synthetic_count=cfg.train.val_images, seed=cfg.train.seed)
    samples = [dataset[i] for i in range(len(dataset))]
    net = convert_qonnx(export_detector(model, tmp_path_factory.mktemp(request.param) / "model.onnx"))
    values = run_counts(net, np.stack([s.image for s in samples]))
    spec = model.head_spec
    params = HeadParams(spec.num_classes, spec.anchors, spec.input_size, spec.grid,
                        tuple(float(s) for s in net.head.out_scale), tuple(model.names))
    return doc, spec, params, samples, values


@pytest.mark.slow
@pytest.mark.parametrize("conf,iou,max_det", [(0.001, 0.5, 100), (0.25, 0.45, 100)])
def test_shipped_models_same_detections_and_map(shipped, conf: float, iou: float, max_det: int) -> None:
    from spikeflow.detect.metrics import evaluate_map
    from spikeflow.frontend.evaluate import to_original

    doc, spec, params, samples, values = shipped
    assert len(samples) == doc["config"]["train"]["val_images"] == 256
    head = dequantized(values, np.array(params.out_scale))
    ref = ref_postprocess(head, spec, conf, iou, max_det)
    got = decode_float(head, spec, conf, iou, max_det)
    assert sum(len(d) for d in ref) >= len(samples)
    assert_same(got, ref)
    assert_equal(decode_values(values, params, conf, iou, max_det), got)
    assert_equal(decode_values(to_stream(values), params, conf, iou, max_det), got)
    gt = [(s.letterbox.to_original(s.boxes), s.labels) for s in samples]
    maps = [evaluate_map([to_original(d, s) for d, s in zip(dets, samples)], gt, spec.num_classes)
            for dets in (ref, got)]
    assert maps[0] == maps[1]
    if conf == 0.001:  # the mAP setting: the checkpoint's own QAT figure, measured in training with the torch code
        assert maps[1]["map50"] == pytest.approx(doc["metrics"]["map50_qat"], abs=1e-9)
        assert maps[1]["map50_95"] == pytest.approx(doc["metrics"]["map50_95_qat"], abs=1e-9)
