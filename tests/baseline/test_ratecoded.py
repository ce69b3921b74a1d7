import torch

from spikeflow.baseline.ratecoded import FloatConv, FloatPool, RateCodedSNN, activation_percentiles, ann_forward


def _tiny_float_model(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    layers = [FloatConv(torch.randn(6, 3, 3, 3, generator=gen) * 0.4, torch.rand(6, generator=gen) * 0.3, 1, 1),
              FloatPool(2, 2),
              FloatConv(torch.randn(8, 6, 3, 3, generator=gen) * 0.3, torch.rand(8, generator=gen) * 0.3, 1, 1),
              FloatPool(2, 2),
              FloatConv(torch.randn(8, 8, 3, 3, generator=gen) * 0.3, torch.rand(8, generator=gen) * 0.3, 1, 1)]
    head = FloatConv(torch.randn(5, 8, 1, 1, generator=gen) * 0.5, torch.randn(5, generator=gen) * 0.1, 1, 0)
    images = torch.rand(4, 3, 16, 16, generator=gen)
    return layers, head, images


def test_rate_coded_converges_to_the_float_ann() -> None:
    layers, head, images = _tiny_float_model()
    ann = ann_forward(layers, head, images)
    lambdas = activation_percentiles(layers, head, images, percentile=100.0)
    snn = RateCodedSNN(layers, head, lambdas, percentile=100.0)
    outs = snn.run(images, [8, 32, 256])
    err = {t: float((o - ann).abs().mean()) for t, o in outs.items()}
    assert err[256] < err[32] < err[8]
    assert err[256] < 0.3 * err[8]
    # Chunking the timesteps differently does not change the simulation.
    assert torch.allclose(snn.run(images, 32, chunk=5)[32], outs[32], atol=1e-5)


def test_gated_max_pool_passes_the_most_active_neuron() -> None:
    t = 200
    rates = torch.tensor([0.5, 0.3, 0.2, 0.0])
    steps = torch.arange(1, t + 1, dtype=torch.float32)[:, None]
    trains = (torch.floor(steps * rates) - torch.floor((steps - 1) * rates))  # regular spike trains [t, 4]
    s = trains.view(t, 1, 1, 2, 2)
    out = RateCodedSNN._gate_pool(0, s, 2, 2, {})
    assert abs(float(out.sum()) / t - 0.5) < 0.02  # an OR of the trains would give about 0.8
