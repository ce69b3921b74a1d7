"""Two gloo processes (DDP) with a global batch of 8 train what one process trains with a batch of 8: the same
weights after float and QAT steps, up to the order of float sums."""

import os
import socket
import time
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from spikeflow.frontend.checkpoint import read_checkpoint
from spikeflow.frontend.config import TrainSpec
from spikeflow.frontend.train import TrainingStopped, train
from tests.factories import small_config

STEPS = 6  # 4 float steps (one epoch) and 2 QAT steps


def _cfg():
    spec = TrainSpec(epochs_float=1, epochs_qat=1, batch_size=8, train_images=32, val_images=8, freeze_bn_epochs=0)
    return replace(small_config(input_size=32, channels=(4, 8)), train=spec)


def _rank(rank: int, port: int, out: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE="2")
    torch.set_num_threads(1)
    try:
        train(_cfg(), out, quiet=True, stop_after_steps=STEPS, device="cpu")
    except TrainingStopped:
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_gloo_processes_match_one_process_with_the_same_global_batch(tmp_path: Path) -> None:
    torch.set_num_threads(1)
    with pytest.raises(TrainingStopped):
        train(_cfg(), tmp_path / "one", quiet=True, stop_after_steps=STEPS, device="cpu")
    ranks = mp.start_processes(_rank, args=(_free_port(), str(tmp_path / "two")), nprocs=2, join=False,
                               start_method="spawn")
    deadline = time.monotonic() + 600
    while not ranks.join(timeout=5):  # raises when a rank fails
        if time.monotonic() > deadline:
            for process in ranks.processes:
                process.kill()
            pytest.fail("the two training processes did not finish within 600 s (a hang in DDP or gloo)")
    one, two = read_checkpoint(tmp_path / "one" / "last.pt"), read_checkpoint(tmp_path / "two" / "last.pt")
    assert two["train_state"]["batch"] == one["train_state"]["batch"] == 2
    assert (one["train_state"]["processes"], two["train_state"]["processes"]) == (1, 2)
    assert two["train_state"]["phase"] == "qat" and bool(two["state_dict"]["quantized"])
    moved = 0.0
    for key, value in one["state_dict"].items():
        other = two["state_dict"][key]
        assert other.shape == value.shape, key
        if value.is_floating_point():
            assert torch.allclose(value, other, rtol=1e-4, atol=1e-5), (key, (value - other).abs().max())
            moved = max(moved, float((value - _initial(key)).abs().max())) if key == "backbone.0.conv.weight" else moved
        else:
            assert torch.equal(value, other), key
    assert moved > 1e-3  # the steps changed the weights, so agreeing is not trivial


def _initial(key: str) -> torch.Tensor:
    from spikeflow.frontend.model import QuantDetector

    torch.manual_seed(_cfg().train.seed)
    model = QuantDetector(_cfg(), ["square", "disc", "triangle"])
    return model.state_dict()[key]
