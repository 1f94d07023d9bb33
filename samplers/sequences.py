"""Windows of T frames for PoseBERT, with masking, noise and random replacements.

All on the corpus's device, batched, no Python loop over samples. ``observed`` is True
where a frame is visible to the model; ``inputs`` are the corrupted poses, ``poses`` the
clean targets.
"""

from __future__ import annotations

import torch

from mocap_hmr.choices import MASK_MODES
from mocap_hmr.data.motion_index import MotionIndex
from mocap_hmr.errors import MocapHMRError


class SequenceSampler:
    """Uniform random windows of ``window`` frames at ``fps`` from ``index``.

    window: T; fps: a divisor of the index's rate (default: the index's); masked_frames: m,
    the expected number of hidden frames per window (per-frame Bernoulli m/T, or one
    contiguous span of m frames), applied to a fraction ``mask_fraction`` of the windows;
    noise_std: Gaussian noise on axis-angle inputs (radians); random_pose / random_joint:
    fractions of frames / (frame, joint) pairs replaced by those of random corpus frames.
    Sequences shorter than a window are left out (``excluded`` counts them).
    """

    def __init__(self, index: MotionIndex, window: int = 16, fps: float | None = None, masked_frames: float = 2.0,
                 mask_mode: str = "bernoulli", mask_fraction: float = 1.0, noise_std: float = 0.05,
                 random_pose: float = 0.0, random_joint: float = 0.0):
        if mask_mode not in MASK_MODES:
            raise MocapHMRError(f"mask_mode '{mask_mode}' is not one of {', '.join(MASK_MODES)}")
        if not 0 <= masked_frames <= window:
            raise MocapHMRError(f"masked_frames={masked_frames} must lie in [0, window={window}]")
        fps = fps or index.fps
        stride = index.fps / fps
        if abs(stride - round(stride)) > 1e-6 or stride < 1:
            raise MocapHMRError(
                f"fps={fps:g}: must divide the index's {index.fps:g} fps (e.g. {index.fps / 2:g}, {index.fps / 4:g})"
            )
        self.index, self.window, self.stride = index, window, int(round(stride))
        self.masked_frames, self.mask_mode, self.mask_fraction = masked_frames, mask_mode, mask_fraction
        self.noise_std, self.random_pose, self.random_joint = noise_std, random_pose, random_joint
        span = (window - 1) * self.stride + 1
        starts_per_sequence = (index.lengths - span + 1).clamp(min=0)
        self.excluded = int((starts_per_sequence == 0).sum())
        self.cum_starts = starts_per_sequence.cumsum(0)  # (S,)
        self.num_windows = int(self.cum_starts[-1])
        if self.num_windows == 0:
            raise MocapHMRError(
                f"no sequence of the motion index is long enough for a window of {window} frames at {fps:g} fps "
                f"({span} frames at {index.fps:g} fps); the longest has {int(index.lengths.max())}"
            )
        self.offsets_in_window = torch.arange(window, device=index.poses.device) * self.stride

    def sample(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """``n`` windows: poses, inputs (n, T, 24, 3); observed (n, T) bool; trans (n, T, 3);
        betas (n, 10); sequence, start (n,) (start = first frame id in the index)."""
        device = self.cum_starts.device
        r = torch.randint(self.num_windows, (n,), generator=generator, device=device)
        sequence = torch.searchsorted(self.cum_starts, r, right=True)
        before = self.cum_starts[sequence] - (self.index.lengths[sequence] - (self.window - 1) * self.stride)
        start = self.index.offsets[sequence] + (r - before)
        frames = start[:, None] + self.offsets_in_window  # (n, T)
        poses = self.index.poses[frames]
        inputs = self._replace(poses, generator)
        if self.noise_std > 0:
            inputs = inputs + self.noise_std * torch.randn(inputs.shape, generator=generator, device=device)
        return {"poses": poses, "inputs": inputs, "observed": self._observed(n, generator),
                "trans": self.index.trans[frames], "betas": self.index.betas[sequence],
                "sequence": sequence, "start": start}

    def _replace(self, poses: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Random-pose (whole frame) and random-joint replacements, from random corpus frames."""
        n, t = poses.shape[:2]
        device = poses.device
        out = poses
        if self.random_pose > 0:
            swap = torch.rand(n, t, generator=generator, device=device) < self.random_pose
            donors = torch.randint(self.index.num_frames, (n, t), generator=generator, device=device)
            out = torch.where(swap[..., None, None], self.index.poses[donors], out)
        if self.random_joint > 0:
            swap = torch.rand(n, t, 24, generator=generator, device=device) < self.random_joint
            donors = torch.randint(self.index.num_frames, (n, t), generator=generator, device=device)
            out = torch.where(swap[..., None], self.index.poses[donors], out)
        return out

    def _observed(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, T) bool: True where visible; at least one frame of every window stays visible."""
        device, t = self.cum_starts.device, self.window
        if self.mask_mode == "bernoulli":
            hidden = torch.rand(n, t, generator=generator, device=device) < self.masked_frames / t
        else:
            length = int(round(self.masked_frames))
            first = torch.randint(t - length + 1, (n, 1), generator=generator, device=device)
            steps = torch.arange(t, device=device)
            hidden = (steps >= first) & (steps < first + length)
        masked_windows = torch.rand(n, 1, generator=generator, device=device) < self.mask_fraction
        hidden = hidden & masked_windows
        keep_one = torch.randint(t, (n, 1), generator=generator, device=device)
        rescue = hidden.all(dim=1, keepdim=True) & (torch.arange(t, device=device) == keep_one)
        return ~(hidden & ~rescue)
