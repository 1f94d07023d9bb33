"""Batches of real images (SPIN's datasets) for the real half of MoCap-SPIN batches, through
a DataLoader with worker processes, prefetching and pinned memory, in ``CropBatch``'s fields.

Mixing: each dataset may be given a *share* of the real half (SPIN's MixedDataset: H36M 0.3,
MPI-INF-3DHP 0.1); datasets without one split what is left in proportion to their sizes (SPIN's
0.6 for LSP, MPII, LSPET and COCO). With no share given at all, an epoch is a shuffle of the
union; with shares, an epoch is as many samples drawn with replacement by those probabilities.
The order is a function of (seed, epoch) and the stream's position is two integers, so a
resumed run reads exactly the batches an uninterrupted one would have.

A sample that cannot be read (``DatasetError``: its image is gone or does not decode) travels
out of the worker process as data, so it reaches the user as the one line it gives without
workers. With ``skip_bad`` its place in the batch goes to another sample of the batch, and the
stream logs and counts each such image once.

Several processes (``rank`` of ``world_size``) deal each epoch's batches out in turn: rank r
reads batches r, r + N, r + 2N ..., so no two read the same samples. The position counts the
batches all of them have read, so it means the same thing to any number of processes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import torch
from torch.utils.data import ConcatDataset, DataLoader, Dataset, default_collate

from mocap_hmr.data.crop_batch import CropBatch
from mocap_hmr.data.spin_dataset import DatasetError, SpinDataset
from mocap_hmr.data.spin_fits import FitCheck


def sample_weights(sizes: Sequence[int], shares: Sequence[float | None]) -> torch.Tensor | None:
    """Per-sample probabilities (sum(sizes),) float64 realising the datasets' ``shares`` of a
    batch (None: split the rest in proportion to size), or None when no share is given (then
    every sample is equally likely)."""
    if all(s is None for s in shares):
        return None
    given = sum(s for s in shares if s is not None)
    rest = sum(n for n, s in zip(sizes, shares, strict=True) if s is None)
    if any(s is not None and s < 0 for s in shares) or given > 1 + 1e-9 or (rest == 0 and abs(given - 1) > 1e-6):
        raise DatasetError(f"mocap_spin.real: the shares {list(shares)} must be >= 0 and sum to 1 (or to less, "
                           "with datasets without a share taking the rest)")
    per_dataset = [torch.full((n,), (s if s is not None else (1 - given) * n / rest) / max(n, 1), dtype=torch.float64)
                   for n, s in zip(sizes, shares, strict=True)]
    return torch.cat(per_dataset)


class _Guarded(Dataset):
    """A dataset whose ``DatasetError`` on a sample is returned as ``{"error": message}``."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> dict:
        try:
            return self.dataset[i]
        except DatasetError as exc:
            return {"error": str(exc)}


def _collate(samples: list[dict], skip_bad: bool) -> dict:
    """The batch of ``samples``: unreadable ones replaced by readable ones of the batch and
    listed under ``skipped`` (``skip_bad``), else the batch is ``{"errors": [message, ...]}``."""
    errors = [s["error"] for s in samples if "error" in s]
    good = [s for s in samples if "error" not in s]
    if errors and (not skip_bad or not good):
        return {"errors": errors}
    batch = default_collate(good + [good[k % len(good)] for k in range(len(errors))])
    batch["skipped"] = errors
    return batch


class RealImageStream:
    """``sample(n, generator)`` -> the next ``n`` augmented real crops (``n`` fixed per
    stream). The order comes from (seed, epoch), not from ``generator``; each pass is a new
    epoch with new augmentations. Fields real data lacks (masks, cam_t, intrinsics) are zero;
    ``has_smpl`` / ``has_3d`` say which targets exist: ``has_smpl`` where the dataset has SMPL
    parameters or, with ``fit_check``, where SPIN's fit of the sample passes its test
    (``spin_fits.FitCheck``); pose and betas are zero elsewhere. ``state_dict()`` is the position.
    ``skip_bad``: an unreadable sample is replaced (module docstring); ``skipped`` counts them."""

    def __init__(self, datasets: list[SpinDataset], batch_size: int, device: torch.device, seed: int = 0,
                 workers: int = 2, shares: Sequence[float | None] | None = None, rank: int = 0, world_size: int = 1,
                 fit_check: FitCheck | None = None, skip_bad: bool = False, log: Callable[[str], None] = print):
        self.datasets, self.batch_size, self.device, self.fit_check = datasets, batch_size, device, fit_check
        self.seed, self.workers, self.rank, self.world_size = seed, workers, rank, world_size
        self.skip_bad, self.log, self.skipped = skip_bad, log, set()
        self.union = ConcatDataset(datasets)
        if len(self.union) < batch_size * world_size:
            each = f" on each of {world_size} processes" if world_size > 1 else ""
            raise DatasetError(f"mocap_spin.real: {len(self.union)} samples in all, fewer than the real half of a "
                               f"batch ({batch_size}){each}")
        self.weights = sample_weights([len(d) for d in datasets], shares or [None] * len(datasets))
        self.epoch, self.batch = 0, 0
        self.iterator = None

    def _order(self, epoch: int) -> torch.Tensor:
        """The sample order of one epoch (len(union),), a function of (seed, epoch)."""
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        if self.weights is None:
            return torch.randperm(len(self.union), generator=g)
        return torch.multinomial(self.weights, len(self.union), replacement=True, generator=g)

    def _start_epoch(self) -> None:
        """Iterate the current epoch's batches from ``self.batch`` on."""
        for dataset in self.datasets:
            dataset.epoch = self.epoch
        order = self._order(self.epoch)
        step = self.batch_size * self.world_size  # every process gets as many batches
        batches = order[: len(order) // step * step].view(-1, self.batch_size)[self.batch + self.rank:: self.world_size]
        # its own generator: creating the iterator draws a worker seed, which must not move the global RNG
        loader = DataLoader(_Guarded(self.union), batch_sampler=batches.tolist(), num_workers=self.workers,
                            collate_fn=functools.partial(_collate, skip_bad=self.skip_bad),
                            pin_memory=self.device.type == "cuda", generator=torch.Generator().manual_seed(self.seed))
        self.iterator = iter(loader)

    def _next(self) -> dict[str, torch.Tensor]:
        if self.iterator is None:
            self._start_epoch()
        sample = next(self.iterator, None)
        if sample is None:
            self.epoch, self.batch = self.epoch + 1, 0
            self._start_epoch()
            sample = next(self.iterator)
        self.batch += self.world_size
        if "errors" in sample:
            every = "; every sample of this batch is unusable" if self.skip_bad else ""
            raise DatasetError(sample["errors"][0] + every)
        for message in sample.pop("skipped"):
            if message not in self.skipped:
                self.skipped.add(message)
                self.log(f"mocap_spin.skip_bad: skipped {message} ({len(self.skipped)} unreadable image(s) so far)")
        return sample

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "batch": self.batch}

    def load_state_dict(self, state: dict) -> None:
        self.epoch, self.iterator = state["epoch"], None
        # saved by another number of processes: from the last whole step of this many before it
        self.batch = state["batch"] // self.world_size * self.world_size

    def sample(self, n: int, generator: torch.Generator | None = None) -> CropBatch:
        if n != self.batch_size:
            raise ValueError(f"this real-image stream yields batches of {self.batch_size}, not {n}")
        sample = {k: v.to(self.device, non_blocking=True) for k, v in self._next().items()}
        has_smpl, pose, betas = sample["has_smpl"], sample["pose"], sample["betas"]
        if self.fit_check is not None:
            has_smpl, betas = self.fit_check.targets(pose, betas, sample["joints2d"], has_smpl, sample["has_fit"])
        pose, betas = pose * has_smpl[:, None, None], betas * has_smpl[:, None]
        size = sample["images"].shape[-1]
        zeros = torch.zeros(n, 3, device=self.device)
        return CropBatch(
            images=sample["images"], masks=torch.zeros(n, 1, size, size, device=self.device),
            joints2d=sample["joints2d"], joints3d=sample["joints3d"], joints3d_conf=sample["joints3d_conf"],
            pose=pose, betas=betas, camera=zeros, cam_t=zeros, focal=zeros[:, :2], principal=zeros[:, :2],
            crop_kind=torch.zeros(n, dtype=torch.long, device=self.device), has_smpl=has_smpl, has_3d=sample["has_3d"],
        )
