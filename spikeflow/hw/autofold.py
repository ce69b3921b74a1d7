"""Automatic folding to a target frame rate: for each layer, the PE, SIMD and time-parallel mode that meet the
cycle budget (clock / target FPS) at the least estimated resources, so that every stage keeps pace with the
same budget (a balanced pipeline). When the target cannot be met on the part, the best frame rate that fits.

A DAG folds the same way: the budget applies to every conv and head on every branch (each is its own pipeline
stage, and a join runs at the pace of its slowest input), the joins, upsamplers and max-pools walk one position per
cycle (`longest_walk` bounds them), and the fit counts the forks' branch FIFOs (at the skew model's depths, which
do not depend on the folding), the concats, the upsamplers and the residual shortcuts (resources.dag_resources,
resources.residual_features).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from spikeflow.hw.boards import Capacity
from spikeflow.hw.cycles import cycles_per_frame, estimate_cycles
from spikeflow.hw.folding import Folding, LayerFolding, conv_cycles, longest_walk, window_elems
from spikeflow.hw.resources import DEFAULT_MODEL, ResourceModel, conv_resources, layer_resources, total
from spikeflow.ir import FewdIFConv, FewdIFHead, FewdIFNetwork

FIT_FRACTION = 1.0  # share of the part the design may use


@dataclass
class FoldPlan:
    folding: Folding
    target_fps: float
    budget_cycles: int
    estimated_cycles: int
    fps: float
    resources: dict[str, float]
    fits: bool
    target_met: bool
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"target_fps": self.target_fps, "budget_cycles": self.budget_cycles,
                "estimated_cycles_per_frame": self.estimated_cycles, "fps": self.fps, "resources": self.resources,
                "fits": self.fits, "target_met": self.target_met, "notes": self.notes,
                "folding": self.folding.as_dict()}


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _cost(net: FewdIFNetwork, layer: FewdIFConv | FewdIFHead, f: LayerFolding, capacity: Capacity,
          model: ResourceModel) -> float:
    """Resources of one layer's folding as the sum of the shares of the part it takes."""
    row = conv_resources(layer, f, net.act_bits, model)
    cap = capacity.as_dict()
    return sum(getattr(row, key) / cap[key] for key in ("LUT", "FF", "BRAM36", "DSP") if cap.get(key))


def choose(net: FewdIFNetwork, budget: int, capacity: Capacity, model: ResourceModel) -> tuple[Folding, list[str]]:
    """The cheapest folding of each conv/head layer, on every branch of a DAG, within `budget` cycles per frame
    (the fastest where none is)."""
    layers: dict[str, LayerFolding] = {}
    notes = []
    walk = longest_walk(net)
    if walk > budget:  # one pixel per beat: more would shorten the input stage only (pixels_per_beat_note)
        notes.append(f"no folding goes below {walk:,} cycles per frame: the longest walk over a (padded) raster, "
                     f"one position per cycle; more input pixels per beat would not shorten it")
    for layer in net.layers:
        if not isinstance(layer, FewdIFConv | FewdIFHead):
            continue
        options = [LayerFolding(pe, simd, tp) for pe in _divisors(layer.out_channels)
                   for simd in _divisors(window_elems(layer)) for tp in (True, False)]
        ok = [f for f in options if conv_cycles(layer, f) <= budget]
        if ok:
            layers[layer.name] = min(ok, key=lambda f: (_cost(net, layer, f, capacity, model), f.pe * f.simd))
        else:
            layers[layer.name] = min(options, key=lambda f: conv_cycles(layer, f))
            notes.append(f"{layer.name}: at best {conv_cycles(layer, layers[layer.name]):,} cycles per frame "
                         f"(it walks its padded input raster one position per cycle), over the budget of {budget:,}")
    folding = Folding(layers, 1)
    for row in estimate_cycles(net, folding):  # stages that are not a conv or head: the output port(s), ...
        if row.layer not in layers and row.cycles > max(budget, walk):
            notes.append(f"{row.layer}: {row.cycles:,} cycles per frame (a stage without a folding of its own, "
                         f"e.g. the output port at one head value per cycle), over the budget of {budget:,}")
    return folding, notes


def _plan(net: FewdIFNetwork, clock_mhz: float, target_fps: float, capacity: Capacity,
          model: ResourceModel) -> FoldPlan:
    budget = int(clock_mhz * 1e6 // target_fps)
    folding, notes = choose(net, budget, capacity, model)
    estimate = cycles_per_frame(estimate_cycles(net, folding))
    used = total(layer_resources(net, folding, model))
    cap = capacity.as_dict()
    fits = all(used[k] <= FIT_FRACTION * cap[k] for k in used if k in cap)
    return FoldPlan(folding, target_fps, budget, estimate, clock_mhz * 1e6 / estimate, used, fits,
                    estimate <= budget, notes)


def fold_to_target(net: FewdIFNetwork, clock_mhz: float, target_fps: float, capacity: Capacity,
                   model: ResourceModel = DEFAULT_MODEL) -> FoldPlan:
    """Fold for `target_fps` at `clock_mhz`. When the target is not met or does not fit the part, the plan for the
    highest frame rate that fits (bisection on the target), with notes saying why."""
    plan = _plan(net, clock_mhz, target_fps, capacity, model)
    if plan.fits and plan.target_met:
        return plan
    reasons = list(plan.notes)
    if not plan.fits:
        reasons.append(f"the folding for {target_fps:,.0f} FPS does not fit the part (estimated "
                       + ", ".join(f"{k} {v:,.0f}" for k, v in plan.resources.items()) + ")")
    lo, hi = 1.0, min(target_fps, plan.fps) if plan.fits else target_fps
    best = _plan(net, clock_mhz, lo, capacity, model)
    for _ in range(30):
        mid = (lo + hi) / 2
        trial = _plan(net, clock_mhz, mid, capacity, model)
        if trial.fits and trial.target_met:
            best, lo = trial, mid
        else:
            hi = mid
        if hi - lo < max(1.0, 0.002 * hi):
            break
    best.notes = [f"target {target_fps:,.0f} FPS not reached: " + "; ".join(reasons),
                  f"best that fits: {best.fps:,.0f} FPS ({best.estimated_cycles:,} cycles per frame)"]
    best.target_fps = target_fps
    best.target_met = False
    return best
