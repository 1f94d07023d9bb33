"""Random frames of a motion corpus: poses, betas and translations, batched on the corpus's device."""

from __future__ import annotations

import torch

from mocap_hmr.data.motion_index import MotionIndex


class PoseSampler:
    """Uniform random frames of ``index``.

    ``min_change`` (radians, 0 = off) skips near-duplicate frames: a frame is kept only if
    some joint's axis-angle differs by more than ``min_change`` from the previous frame of
    its sequence (first frames are always kept), so held poses are not over-sampled.
    """

    def __init__(self, index: MotionIndex, min_change: float = 0.0):
        self.index = index
        sequence = index.frame_sequence()
        self.frame_betas = index.betas[sequence]  # (N, 10)
        keep = torch.ones(index.num_frames, dtype=torch.bool, device=index.poses.device)
        if min_change > 0:
            change = (index.poses[1:] - index.poses[:-1]).norm(dim=-1).amax(dim=-1)  # (N-1,)
            keep[1:] = change > min_change
            keep[index.offsets[:-1]] = True
        self.frames = keep.nonzero()[:, 0]  # (M,) eligible frame ids

    def __len__(self) -> int:
        return len(self.frames)

    def sample(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """``n`` frames: pose (n, 24, 3), betas (n, 10), trans (n, 3), frame (n,) ids.
        ``generator`` lives on the corpus's device."""
        pick = torch.randint(len(self.frames), (n,), generator=generator, device=self.frames.device)
        frame = self.frames[pick]
        return {"pose": self.index.poses[frame], "betas": self.frame_betas[frame],
                "trans": self.index.trans[frame], "frame": frame}
