"""Brevitas QONNX export of the BN-folded detector, cleaned with qonnx, and checked with execute_onnx."""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from spikeflow.errors import ExportError
from spikeflow.frontend.model import QuantDetector, check_supported
from spikeflow.verify.qonnx_exec import run_qonnx, run_qonnx_outputs

if TYPE_CHECKING:
    import onnx

EXPORT_REL_TOLERANCE = 1e-5  # only used with float scales; power-of-two scales must match exactly


@dataclass
class ExportCheck:
    frames: int
    max_abs_diff: float
    max_rel_diff: float
    tolerance: float
    qonnx_outputs: np.ndarray | None = field(default=None, repr=False)
    brevitas_outputs: np.ndarray | None = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        return self.max_rel_diff <= self.tolerance

    def summary(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return (f"{verdict}: QONNX execute_onnx vs Brevitas on {self.frames} frames, max abs diff "
                f"{self.max_abs_diff:.3g}, max rel diff {self.max_rel_diff:.3g} (tolerance {self.tolerance:g})")


def export_detector(detector: QuantDetector, path: str | Path) -> Path:
    """Export the deployable network to QONNX at `path`, cleaned with qonnx's transformations."""
    check_supported(detector)
    deploy = detector.deploy().cpu()
    check_supported(deploy)
    size = detector.cfg.input_size
    return export_module(deploy, (3, size, size), path, detector.cfg.name)


def export_module(deploy: nn.Module, input_shape: tuple[int, int, int], path: str | Path, name: str) -> Path:
    """Export a deployable (BN-folded) Brevitas network of any topology to QONNX at `path`, cleaned with qonnx;
    `name` names it in errors. Several outputs become several graph outputs, in the order forward returns them."""
    from brevitas.export import export_qonnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    deploy = deploy.cpu().eval()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # torch's exporter prints its progress and warns about torchvision ops this model never uses: keep it,
    # and show it only when the export fails.
    chatter = io.StringIO()
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings(), contextlib.redirect_stdout(chatter):
        warnings.simplefilter("ignore")
        try:
            export_qonnx(deploy, input_t=torch.zeros(1, *input_shape), export_path=str(path))
        except Exception as exc:  # noqa: BLE001 - re-raised with context for the user
            raise ExportError(f"Brevitas QONNX export of {name!r} failed: {exc}\n"
                              f"{chatter.getvalue()[-2000:]}") from exc
        model = cleanup_model(ModelWrapper(str(path)))
    save_self_contained(model.model, path)
    return path


def save_self_contained(model: onnx.ModelProto, path: Path) -> None:
    """Write `model` as one .onnx file holding all its weights, and remove the `<name>.data` file of
    external weights that torch's exporter writes beside it (the saved model no longer refers to it)."""
    import onnx
    from onnx.external_data_helper import load_external_data_for_model, uses_external_data

    if any(uses_external_data(t) for t in model.graph.initializer):
        load_external_data_for_model(model, str(path.parent))
    onnx.save_model(model, str(path), save_as_external_data=False)
    stray = path.with_name(path.name + ".data")
    if stray.is_file():
        stray.unlink()


def check_export(detector: QuantDetector | nn.Module, path: str | Path, images: np.ndarray) -> ExportCheck:
    """Compare execute_onnx against the Brevitas forward pass on real images (pixel/256 floats). With several
    heads every head is compared, and the outputs are the heads' flattened per frame and joined ([N, sum K*G*G])."""
    module = detector.deploy() if isinstance(detector, QuantDetector) else detector
    module = module.cpu().eval()
    with torch.no_grad():
        out = module(torch.from_numpy(images.astype(np.float32)))
    if isinstance(out, torch.Tensor):
        ref, got = out.numpy(), run_qonnx(path, images)
    else:
        ref = _joined([o.numpy() for o in out])
        got = _joined(run_qonnx_outputs(path, images))
    diff = np.abs(got.astype(np.float64) - ref.astype(np.float64))
    rel = diff / np.maximum(np.abs(ref).max(), 1e-12)
    scaling = detector.cfg.scaling if isinstance(detector, QuantDetector) else "po2"
    tol = 0.0 if scaling == "po2" else EXPORT_REL_TOLERANCE
    return ExportCheck(frames=len(images), max_abs_diff=float(diff.max()), max_rel_diff=float(rel.max()),
                       tolerance=tol, qonnx_outputs=got, brevitas_outputs=ref)


def _joined(outputs: list[np.ndarray]) -> np.ndarray:
    """Head outputs [N, K, G, G] each, flattened per frame and concatenated: [N, sum of K*G*G]."""
    return np.concatenate([o.reshape(o.shape[0], -1) for o in outputs], axis=1)
