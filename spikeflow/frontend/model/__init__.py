"""The Brevitas quantization-aware compact detector and its deployable (BN-folded) form."""

from spikeflow.frontend.model.detector import QuantDetector, check_supported

__all__ = ["QuantDetector", "check_supported"]
