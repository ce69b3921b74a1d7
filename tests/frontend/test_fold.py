import torch

from spikeflow.frontend.model.blocks import FoldedConvBNReLU
from tests.factories import random_frames, randomized_detector, small_config


def test_folded_deploy_equals_qat_model_exactly() -> None:
    cfg = small_config()
    model = randomized_detector(cfg, seed=1)
    x = random_frames(cfg, 6).float() / 256
    with torch.no_grad():
        assert torch.equal(model(x), model.deploy()(x))


def test_bn_is_folded_before_weight_quantization() -> None:
    """The integer weights the deploy conv exports are exactly the quantized folded weights QAT trained."""
    cfg = small_config()
    model = randomized_detector(cfg, seed=2)
    block = next(m for m in model.backbone if isinstance(m, FoldedConvBNReLU))
    weight, _ = block.folded(block.bn.running_mean, block.bn.running_var)
    trained = block.conv.weight_quant(weight)
    deployed = block.deploy()[0].quant_weight()
    assert torch.equal(trained.int(), deployed.int())
    assert torch.equal(trained.scale, deployed.scale)


def test_folded_training_matches_unfolded_bn_in_float() -> None:
    """Folding is an identity in float: conv+BN (running stats) equals the folded conv."""
    cfg = small_config()
    model = randomized_detector(cfg, seed=3)
    block = next(m for m in model.backbone if isinstance(m, FoldedConvBNReLU))
    x = torch.rand(2, 3, 16, 16)
    ref = block.forward_float(x)
    w, b = block.folded(block.bn.running_mean, block.bn.running_var)
    folded = torch.relu(torch.nn.functional.conv2d(x, w, b, padding=1))
    assert torch.allclose(ref, folded, atol=1e-5)


def test_training_step_updates_running_stats_until_frozen() -> None:
    cfg = small_config()
    model = randomized_detector(cfg, seed=4).train()
    block = next(m for m in model.backbone if isinstance(m, FoldedConvBNReLU))
    x = random_frames(cfg, 4).float() / 256
    before = block.bn.running_mean.clone()
    model(x)
    assert not torch.equal(before, block.bn.running_mean)
    model.freeze_bn()
    frozen = block.bn.running_mean.clone()
    model(x)
    assert torch.equal(frozen, block.bn.running_mean)
