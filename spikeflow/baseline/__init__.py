"""Speed baseline for the paper's claim: FewdIF count mode vs a conventionally converted rate-coded SNN.

- `fewdif_torch`: the FewdIF IR in PyTorch (count mode), CPU or CUDA, equal to the golden `run_counts`.
- `ratecoded`: the trained detector's float network converted to rate-coded IF neurons (Rueckauer et al. 2017).
- `speedup`: mAP@0.5 of both, the smallest T_conv that matches FewdIF, timings and report/speedup.json.
"""

from spikeflow.baseline.fewdif_torch import FewdIFTorch
from spikeflow.baseline.ratecoded import RateCodedSNN, convert_detector

__all__ = ["FewdIFTorch", "RateCodedSNN", "convert_detector"]
