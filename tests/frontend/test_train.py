"""Training smoke test: a few images, one float and one QAT epoch; checkpoints, float.pt and resume."""

from dataclasses import replace

from spikeflow.frontend.checkpoint import load_detector, read_checkpoint
from spikeflow.frontend.config import TrainSpec
from spikeflow.frontend.train import train
from tests.factories import small_config


def test_train_writes_checkpoints_and_resumes(tmp_path) -> None:
    cfg = replace(small_config(input_size=32, channels=(4, 8)),
                  train=TrainSpec(epochs_float=1, epochs_qat=1, batch_size=8, train_images=32, val_images=8,
                                  freeze_bn_epochs=1))
    result = train(cfg, tmp_path, quiet=True)
    for name in ("model.pt", "last.pt", "float.pt"):
        assert (tmp_path / name).is_file()
    model, doc = load_detector(result.checkpoint)
    assert bool(model.quantized) and doc["epoch"] == 1
    assert not bool(load_detector(tmp_path / "float.pt")[0].quantized)
    assert {"map50_float", "map50_qat", "map50_95_qat"} <= set(doc["metrics"])
    # Resume with one more QAT epoch: continues from epoch 2, not from scratch.
    again = train(cfg, tmp_path, resume=True, epochs_qat=2, quiet=True)
    assert read_checkpoint(again.checkpoint)["epoch"] == 2
