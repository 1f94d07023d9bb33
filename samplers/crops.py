"""Square crop boxes around projected 2D joints, with scale jitter and upper-body crops."""

from __future__ import annotations

import torch

from mocap_hmr.body.joint_maps import SMPL_JOINT_NAMES

# SMPL joints kept by the upper-body crops: down to the hips, or down to the knees.
_LEGS_BELOW_HIPS = ("left_knee", "right_knee", "left_ankle", "right_ankle", "left_foot", "right_foot")
UPPER_TO_HIPS = tuple(i for i, n in enumerate(SMPL_JOINT_NAMES) if n not in _LEGS_BELOW_HIPS)
UPPER_TO_KNEES = UPPER_TO_HIPS + tuple(SMPL_JOINT_NAMES.index(n) for n in ("left_knee", "right_knee"))

FULL, TO_HIPS, TO_KNEES = 0, 1, 2


class CropSampler:
    """Boxes (centre, side) around (n, 24, 2) SMPL joints in pixels.

    The side is the larger extent of the chosen joints times ``scale`` ~ U(scale_range); the
    centre moves by up to ``shift`` of the side. With probability ``upper_body`` (the paper:
    20%) only the joints down to the hips or down to the knees (half each) are framed.
    """

    def __init__(self, scale_range: tuple[float, float] = (1.1, 1.4), shift: float = 0.04,
                 upper_body: float = 0.2):
        self.scale_range, self.shift, self.upper_body = scale_range, shift, upper_body

    def sample(self, joints2d: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """joints2d: (n, 24, 2) -> centre (n, 2), size (n,), kind (n,) FULL / TO_HIPS / TO_KNEES."""
        n, device = joints2d.shape[0], joints2d.device
        u = torch.rand(n, 5, generator=generator, device=device)
        upper = u[:, 0] < self.upper_body
        kind = torch.where(upper, torch.where(u[:, 1] < 0.5, TO_HIPS, TO_KNEES), FULL)
        chosen = torch.zeros(n, joints2d.shape[1], dtype=torch.bool, device=device)
        chosen |= (kind == FULL)[:, None]
        for value, joints in ((TO_HIPS, UPPER_TO_HIPS), (TO_KNEES, UPPER_TO_KNEES)):
            member = torch.zeros(joints2d.shape[1], dtype=torch.bool, device=device)
            member[list(joints)] = True
            chosen |= (kind == value)[:, None] & member
        big = torch.finfo(joints2d.dtype).max
        lo = torch.where(chosen[..., None], joints2d, big).amin(dim=1)
        hi = torch.where(chosen[..., None], joints2d, -big).amax(dim=1)
        lo_s, hi_s = self.scale_range
        size = (hi - lo).amax(dim=1) * (lo_s + (hi_s - lo_s) * u[:, 2])
        centre = (lo + hi) / 2 + self.shift * size[:, None] * (2 * u[:, 3:5] - 1)
        return {"centre": centre, "size": size, "kind": kind}
