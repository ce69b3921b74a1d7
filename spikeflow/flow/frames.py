"""The frames step: the verification frames and their labels, written once into the build folder.

Every later step reads these (and the IR), never the checkpoint. Format of `frames.npz` (numpy):

    frames        uint8 [N, C, H, W]   letterboxed pixels, as the accelerator's input stream carries them
    boxes         float32 [M, 4]       ground-truth boxes of all frames, xyxy in model-input pixels
    labels        int64 [M]            their class ids
    frame_index   int64 [M]            the frame each box belongs to
    sources       str [N]              where each frame came from (file name or dataset item)
    data          str []               the dataset: "synthetic", a data YAML, a COCO JSON or a folder of images

A folder of images has no labels (M = 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from spikeflow.errors import DatasetError, StepError
from spikeflow.flow.model_info import SYNTHETIC, ModelInfo
from spikeflow.flow.report import write_report

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


@dataclass
class FrameSet:
    frames: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    frame_index: np.ndarray
    sources: list[str]
    data: str
    data_report: dict = field(default_factory=dict)  # what the dataset skipped (not saved in frames.npz)

    def __len__(self) -> int:
        return len(self.frames)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            np.savez_compressed(f, frames=self.frames, boxes=self.boxes.astype(np.float32),
                                labels=self.labels.astype(np.int64), frame_index=self.frame_index.astype(np.int64),
                                sources=np.array(self.sources, dtype=str), data=np.array(self.data))
        return path

    @classmethod
    def load(cls, path: str | Path) -> FrameSet:
        path = Path(path)
        if not path.is_file():
            raise StepError(f"{path} is missing: the frames step writes it")
        with np.load(path, allow_pickle=False) as npz:
            return cls(frames=npz["frames"], boxes=npz["boxes"], labels=npz["labels"],
                       frame_index=npz["frame_index"], sources=[str(s) for s in npz["sources"]],
                       data=str(npz["data"]))


def dataset_frames(info: ModelInfo, data: str | None, count: int) -> FrameSet:
    """The first `count` validation images of `data` (default: the model's dataset), letterboxed to the input."""
    data = data or info.data or SYNTHETIC
    _, h, w = info.input_shape
    if h != w:
        raise StepError(f"input shape {info.input_shape}: spikeflow letterboxes to square inputs only")
    path = Path(data)
    if data != SYNTHETIC and path.is_dir():
        return folder_frames(path, h, count)
    from spikeflow.data.loader import open_dataset
    from spikeflow.data.sample import print_report

    # open_dataset, not build_dataset: whether the file also served for training does not matter to verification
    dataset = open_dataset(None if data == SYNTHETIC else data, "val", h, info.synthetic_val_images, info.seed,
                           strict=False)
    samples = [dataset[i] for i in range(min(count, len(dataset)))]
    if not samples:
        raise DatasetError(f"{data}: no validation images")
    if data != SYNTHETIC:
        print_report(dataset.report, "   val")
    index = np.concatenate([np.full(len(s.labels), i) for i, s in enumerate(samples)])
    return FrameSet(frames=np.stack([s.image for s in samples]), boxes=np.concatenate([s.boxes for s in samples]),
                    labels=np.concatenate([s.labels for s in samples]), frame_index=index,
                    sources=[s.source for s in samples], data=data, data_report=dataset.report.as_dict())


def folder_frames(folder: Path, size: int, count: int) -> FrameSet:
    """The first `count` readable images of a folder (sorted by name), letterboxed; unreadable files are skipped
    and named."""
    from spikeflow.data.letterbox import letterbox_image, open_rgb
    from spikeflow.data.sample import print_once

    frames, sources, skipped = [], [], []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        if len(frames) == count:
            break
        try:
            image, _ = letterbox_image(open_rgb(path), size)
        except (OSError, ValueError, DatasetError) as exc:
            skipped.append(f"{path.name}: {exc}")
            continue
        frames.append(image)
        sources.append(path.name)
    if skipped:  # once: the export step's check and the frames step both read the folder
        print_once(f"frames: skipped {len(skipped)} unreadable image(s) in {folder}: " + "; ".join(skipped[:3]))
    if not frames:
        raise DatasetError(f"{folder}: no readable images ({', '.join(IMAGE_SUFFIXES)})")
    report = {"kept": len(frames), "skipped": len(skipped), "by_reason": {"unreadable": len(skipped)} if skipped
              else {}, "first": skipped[:5], "source": str(folder), "notes": []}
    return FrameSet(frames=np.stack(frames), boxes=np.zeros((0, 4), np.float32), labels=np.zeros(0, np.int64),
                    frame_index=np.zeros(0, np.int64), sources=sources, data=str(folder), data_report=report)


def step_frames(build, cfg) -> None:
    """Write frames.npz: cfg.frames validation frames of cfg.data (default: the model's dataset)."""
    info = ModelInfo.load(build.model_info)
    frames = dataset_frames(info, cfg.data, cfg.frames)
    frames.save(build.frames)
    write_report(build.root, "frames", {"frames": len(frames), "data": frames.data, "data_report": frames.data_report})
    if len(frames) < cfg.frames:
        print(f"   note: {frames.data} has only {len(frames)} validation images; {cfg.frames} were asked for")
    print(f"   {len(frames)} frames {list(frames.frames.shape[1:])} with {len(frames.labels)} labelled boxes from "
          f"{frames.data} -> {build.frames}")
