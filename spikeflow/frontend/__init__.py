"""The front end: the Brevitas detector, its training, evaluation, checkpoints and QONNX export (needs torch)."""
