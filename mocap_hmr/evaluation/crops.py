"""Image crops of a benchmark's samples, as the image model sees them: the box of side
``scale`` x 200 px around ``center`` (SPIN's convention), resized to the model's input size
and normalized, without augmentation."""

from __future__ import annotations

from pathlib import Path

import torch

from mocap_hmr.data.benchmarks import BenchmarkSet
from mocap_hmr.data.spin_dataset import DatasetError, crop_affine, warp
from mocap_hmr.imageio import ImageFileError, normalize_images, read_image


class BenchmarkCrops(torch.utils.data.Dataset):
    """``crops[i]``: (3, size, size) normalized crop of sample i of ``benchmark``, read from
    ``image_root / benchmark.image_paths[i]``; a missing image is named with the benchmark."""

    def __init__(self, benchmark: BenchmarkSet, image_root: str | Path, size: int):
        self.benchmark, self.root, self.size = benchmark, Path(image_root), size
        if not self.root.is_dir():
            raise DatasetError(f"{benchmark.source}: its image folder {self.root} does not exist")

    def __len__(self) -> int:
        return len(self.benchmark.image_paths)

    def __getitem__(self, i: int) -> torch.Tensor:
        b = self.benchmark
        path = self.root / str(b.image_paths[i])
        try:
            image = torch.from_numpy(read_image(path)).permute(2, 0, 1).float() / 255
        except ImageFileError as exc:
            raise DatasetError(f"{b.source}: sample {i}: {exc}") from exc
        to_crop = crop_affine(b.center[i].astype(float), float(b.scale[i]) * 200, 0.0, False, self.size)
        return normalize_images(warp(image, to_crop, self.size).clamp(0, 1)[None])[0]
