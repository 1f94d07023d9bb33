"""One stream of batches shared by the variants of a study (common random numbers).

Every variant of a study is trained on the same sequence of samples: a ``SharedStream``
wraps a batch source (the renderer, the real-domain crops, SPIN's datasets: anything with
``sample(n, generator) -> CropBatch``), draws full batches of ``width`` samples from a
generator of its own (the trainer's generator is ignored), and hands out the first ``n``
samples of batch t at the variant's t-th call. Batches are kept in memory while they fit the
budget, so later variants replay them instead of rendering again; past it, ``rewind``
restarts the source from its seed and the variant renders the same batches anew.

Prefixes make variants with different mixes comparable: the 4 rendered samples of a 25%
batch are the first 4 of the 8 of a 50% one.
"""

from __future__ import annotations

from dataclasses import fields

import torch

from mocap_hmr.data.crop_batch import CropBatch


def batch_bytes(batch: CropBatch) -> int:
    """Memory held by a batch's tensors."""
    return sum(getattr(batch, f.name).numel() * getattr(batch, f.name).element_size() for f in fields(batch))


def prefix(batch: CropBatch, n: int) -> CropBatch:
    """The first ``n`` samples of a batch."""
    return CropBatch(**{f.name: getattr(batch, f.name)[:n] for f in fields(batch)})


class SharedStream:
    """Batches of up to ``width`` samples from ``source``, the same for every variant.

    source: ``sample(width, generator)``; sources with ``state_dict``/``load_state_dict`` (SPIN's
    datasets) are put back to their first batch on ``rewind`` when nothing is cached; seed: of the
    stream's own generator (on ``device``); budget_bytes: how much of the stream may be kept in
    memory (0: nothing)."""

    def __init__(self, source, width: int, seed: int, device: torch.device, budget_bytes: int):
        self.source, self.width, self.seed, self.budget = source, width, seed, budget_bytes
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self.cache: list[CropBatch] = []
        self.caching = budget_bytes > 0
        self.step = 0
        self._initial = source.state_dict() if hasattr(source, "state_dict") else None

    def rewind(self) -> None:
        """Start the sequence again, for the next variant."""
        self.step = 0
        if not self.caching or not self.cache:
            self.cache.clear()
            self.generator.manual_seed(self.seed)
            if self._initial is not None:
                self.source.load_state_dict(self._initial)

    def sample(self, n: int, generator: torch.Generator | None = None) -> CropBatch:
        """The first ``n`` (<= width) samples of this variant's next batch."""
        if n > self.width:
            raise ValueError(f"SharedStream: asked for {n} samples, its batches have {self.width}")
        if self.step < len(self.cache):
            batch = self.cache[self.step]
        else:
            batch = self.source.sample(self.width, self.generator)
            if self.caching and (len(self.cache) + 1) * batch_bytes(batch) <= self.budget:
                self.cache.append(batch)
            elif self.caching:  # over budget: from now on every variant renders the stream from its seed
                self.caching = False
        self.step += 1
        return prefix(batch, n)
