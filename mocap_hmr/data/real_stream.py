"""Batches of real images (SPIN's datasets) for the real half of MoCap-SPIN batches, through
a DataLoader with worker processes and pinned memory, in ``SyntheticBatch``'s fields."""

from __future__ import annotations

import torch
from torch.utils.data import ConcatDataset, DataLoader

from mocap_hmr.data.spin_dataset import SpinDataset
from renderers.synthetic import SyntheticBatch


class RealImageStream:
    """``render(n, generator)`` -> the next ``n`` augmented real crops (``n`` fixed per
    stream). The order comes from its own seeded shuffling; each pass over the data is a
    new epoch with new augmentations. Fields real data lacks (masks, cam_t, intrinsics)
    are zero; ``has_smpl`` / ``has_3d`` say which targets exist."""

    def __init__(self, datasets: list[SpinDataset], batch_size: int, device: torch.device, seed: int = 0,
                 workers: int = 2):
        self.datasets, self.batch_size, self.device = datasets, batch_size, device
        self.generator = torch.Generator().manual_seed(seed)
        self.loader = DataLoader(ConcatDataset(datasets), batch_size=batch_size, shuffle=True, drop_last=True,
                                 num_workers=workers, pin_memory=device.type == "cuda", generator=self.generator,
                                 persistent_workers=workers > 0)
        self.epoch, self.iterator = 0, iter(self.loader)

    def _next(self) -> dict[str, torch.Tensor]:
        try:
            return next(self.iterator)
        except StopIteration:
            self.epoch += 1
            for dataset in self.datasets:
                dataset.epoch = self.epoch
            self.iterator = iter(self.loader)
            return next(self.iterator)

    def render(self, n: int, generator: torch.Generator | None = None) -> SyntheticBatch:
        if n != self.batch_size:
            raise ValueError(f"this real-image stream yields batches of {self.batch_size}, not {n}")
        sample = {k: v.to(self.device, non_blocking=True) for k, v in self._next().items()}
        size = sample["images"].shape[-1]
        zeros = torch.zeros(n, 3, device=self.device)
        return SyntheticBatch(
            images=sample["images"], masks=torch.zeros(n, 1, size, size, device=self.device),
            joints2d=sample["joints2d"], joints3d=sample["joints3d"], pose=sample["pose"], betas=sample["betas"],
            camera=zeros, cam_t=zeros, focal=zeros[:, :2], principal=zeros[:, :2],
            crop_kind=torch.zeros(n, dtype=torch.long, device=self.device),
            has_smpl=sample["has_smpl"], has_3d=sample["has_3d"],
        )
