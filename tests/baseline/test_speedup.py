import json

import torch

from spikeflow.baseline import speedup
from spikeflow.baseline.speedup import run_speedup, seconds_per_frame
from spikeflow.data.synthetic import NAMES
from spikeflow.frontend.checkpoint import save_checkpoint
from tests.factories import randomized_detector, small_config


def test_speedup_smoke(tmp_path) -> None:
    cfg = small_config(input_size=32, channels=(4, 8))
    ckpt = save_checkpoint(tmp_path / "small.pt", randomized_detector(cfg, num_classes=len(NAMES)))
    result = run_speedup(ckpt, tmp_path / "build", frames=6, batch_size=4, device="cpu", t_max=16,
                         calibration=4, progress=False)
    doc = json.loads((tmp_path / "build" / "report" / "speedup.json").read_text())
    for key in ("device", "fewdif", "rate_coded", "ratio", "frames", "batch_size"):
        assert key in doc
    assert doc["fewdif"]["matches_golden"] is True
    assert doc["fewdif"]["timesteps"] == 3
    assert set(doc["rate_coded"]["map50_by_timesteps"]) == {"8", "16"}
    assert doc["rate_coded"]["timesteps"] in (8, 16)
    assert doc["frames"] == 6 and doc["batch_size"] == 4
    assert result["ratio"] > 0


def test_warm_up_on_a_full_batch_only_when_it_is_short(monkeypatch) -> None:
    batches = [torch.zeros(4, 1), torch.zeros(4, 1)]
    sizes: list[int] = []
    seconds_per_frame(lambda b: sizes.append(len(b)), batches, torch.device("cpu"), min_seconds=0.0)
    assert sizes == [1, 4, 4, 4]  # one frame, the first batch, then one timed pass over both batches
    sizes.clear()
    monkeypatch.setattr(speedup, "WARMUP_LIMIT_S", 0.0)  # every batch counts as slow
    seconds_per_frame(lambda b: sizes.append(len(b)), batches, torch.device("cpu"), min_seconds=0.0)
    assert sizes == [1, 4, 4]
