"""Exact resume: a run stopped mid-epoch (twice, once across the float -> QAT boundary) and resumed ends with the
same weights, metrics and per-epoch log as an uninterrupted run; older last.pt files still resume."""

import json
from dataclasses import replace

import pytest
import torch

from spikeflow.errors import CheckpointError, ConfigError
from spikeflow.frontend.batches import TrainBatches
from spikeflow.frontend.checkpoint import read_checkpoint
from spikeflow.frontend.config import TrainSpec
from spikeflow.frontend.train import TrainingStopped, train
from tests.factories import small_config


def _cfg():
    spec = TrainSpec(epochs_float=1, epochs_qat=2, batch_size=8, train_images=48, val_images=8, freeze_bn_epochs=1)
    return replace(small_config(input_size=32, channels=(4, 8)), train=spec)


def _same_weights(a, b) -> None:
    sa, sb = read_checkpoint(a)["state_dict"], read_checkpoint(b)["state_dict"]
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def test_stopped_and_resumed_run_ends_where_an_uninterrupted_one_does(tmp_path) -> None:
    whole = train(_cfg(), tmp_path / "whole", quiet=True)
    parts = tmp_path / "parts"
    with pytest.raises(TrainingStopped, match="epoch 1, batch 4"):
        train(_cfg(), parts, quiet=True, stop_after_steps=4)  # 6 batches an epoch: stopped mid float epoch
    state = read_checkpoint(parts / "last.pt")["train_state"]
    assert (state["epoch"], state["batch"], state["phase"]) == (0, 4, "float")
    with pytest.raises(TrainingStopped, match="epoch 2, batch 5"):
        train(_cfg(), parts, resume=True, quiet=True, stop_after_steps=7)  # across the start of QAT
    resumed = train(_cfg(), parts, resume=True, quiet=True)
    _same_weights(whole.checkpoint, resumed.checkpoint)
    assert resumed.map50_qat == whole.map50_qat and resumed.map50_float == whole.map50_float
    a, b = read_checkpoint(whole.checkpoint), read_checkpoint(resumed.checkpoint)
    assert a["metrics"] == b["metrics"] and a["epoch"] == b["epoch"] == 2
    log = (tmp_path / "parts" / "train_report.json").read_text()
    assert '"images_per_s"' in log and '"load_wait_fraction"' in log


def test_ctrl_c_saves_last_pt_at_the_batch_it_reached(tmp_path, monkeypatch, capsys) -> None:
    real = TrainBatches.epoch

    def interrupt_at_third(self, *args, **kwargs):
        for n, item in enumerate(real(self, *args, **kwargs)):
            if n == 2:
                raise KeyboardInterrupt  # Ctrl-C while the third batch is read: two steps done
            yield item

    monkeypatch.setattr(TrainBatches, "epoch", interrupt_at_third)
    with pytest.raises(KeyboardInterrupt):
        train(_cfg(), tmp_path, quiet=True)
    state = read_checkpoint(tmp_path / "last.pt")["train_state"]
    assert (state["epoch"], state["batch"]) == (0, 2)
    assert "continue with --resume" in capsys.readouterr().err


def test_last_pt_without_a_training_state_resumes_at_the_next_epoch_and_says_so(tmp_path, capsys) -> None:
    cfg = replace(_cfg(), train=replace(_cfg().train, epochs_qat=0, epochs_float=2))
    with pytest.raises(TrainingStopped):
        train(cfg, tmp_path, quiet=True, stop_after_steps=6)  # the first epoch's 6 batches
    doc = read_checkpoint(tmp_path / "last.pt")
    doc.pop("train_state")
    torch.save(doc, tmp_path / "last.pt")
    result = train(cfg, tmp_path, resume=True)
    assert "holds no optimizer state" in capsys.readouterr().err
    assert read_checkpoint(result.checkpoint)["epoch"] == 1


def test_sigterm_and_sigint_end_training_as_ctrl_c_does() -> None:
    import os
    import signal

    from spikeflow.frontend.train import terminate_as_interrupt

    before = signal.getsignal(signal.SIGTERM)
    for sig in (signal.SIGTERM, signal.SIGINT):
        with pytest.raises(KeyboardInterrupt, match=sig.name), terminate_as_interrupt():
            os.kill(os.getpid(), sig)
    assert signal.getsignal(signal.SIGTERM) == before  # the handlers are put back


def test_qat_from_a_float_checkpoint_ends_where_the_whole_run_does(tmp_path, capsys) -> None:
    """`train --from-float float.pt`: the QAT phase alone, from another run's float phase, gives that run's weights
    and metrics; with eval_each_epoch every epoch's mAP is in the epoch log."""
    cfg = replace(_cfg(), train=replace(_cfg().train, eval_each_epoch=True))
    whole = train(cfg, tmp_path / "whole", quiet=True)
    qat = train(cfg, tmp_path / "qat", from_float=tmp_path / "whole" / "float.pt")
    assert "starting QAT from" in capsys.readouterr().err
    _same_weights(whole.checkpoint, qat.checkpoint)
    assert read_checkpoint(whole.checkpoint)["metrics"] == read_checkpoint(qat.checkpoint)["metrics"]
    report = json.loads((tmp_path / "qat" / "train_report.json").read_text())
    assert [(e["epoch"], e["phase"]) for e in report["epoch_log"]] == [(2, "qat"), (3, "qat")]
    assert all("map50" in e for e in report["epoch_log"])
    assert report["from_float"].endswith("float.pt")


def test_from_float_takes_other_bits_and_refuses_a_qat_checkpoint_another_architecture_or_epoch_count(
        tmp_path) -> None:
    whole = train(_cfg(), tmp_path / "whole", quiet=True)
    three = train(replace(_cfg(), act_bits=3, weight_bits=5), tmp_path / "bits", quiet=True,
                  from_float=tmp_path / "whole" / "float.pt")  # the float phase does not depend on the bits
    assert read_checkpoint(three.checkpoint)["config"]["act_bits"] == 3
    assert read_checkpoint(three.checkpoint)["epoch"] == 2
    with pytest.raises(CheckpointError, match="a QAT checkpoint"):
        train(_cfg(), tmp_path / "a", quiet=True, from_float=whole.checkpoint)
    other = replace(small_config(input_size=32, channels=(4, 16)), train=_cfg().train)
    with pytest.raises(CheckpointError, match="architecture differs .* in layers"):
        train(other, tmp_path / "b", quiet=True, from_float=tmp_path / "whole" / "float.pt")
    with pytest.raises(ConfigError, match="--epochs-float 2 with --from-float"):
        train(_cfg(), tmp_path / "c", quiet=True, epochs_float=2, from_float=tmp_path / "whole" / "float.pt")
