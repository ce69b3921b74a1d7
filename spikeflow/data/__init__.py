"""Detection datasets (synthetic shapes, YOLO, COCO, Pascal VOC), letterboxing and batching."""

from spikeflow.data.coco import CocoDataset
from spikeflow.data.letterbox import Letterbox, letterbox_image
from spikeflow.data.loader import SampleLoader, build_dataset, collate
from spikeflow.data.sample import DetectionDataset, LoadReport, Sample
from spikeflow.data.synthetic import SyntheticDetection
from spikeflow.data.voc import VocDataset
from spikeflow.data.yolo import YoloDataset

__all__ = [
    "CocoDataset",
    "DetectionDataset",
    "Letterbox",
    "LoadReport",
    "Sample",
    "SampleLoader",
    "SyntheticDetection",
    "VocDataset",
    "YoloDataset",
    "build_dataset",
    "collate",
    "letterbox_image",
]
