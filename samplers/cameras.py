"""Tait-Bryan camera viewpoints, sampled in batches on the caller's device. The view
rotation's axes and composition order, the OpenCV flip and the placement of a body in
front of the camera are in ``mocap_hmr.geometry.cameras``."""

from __future__ import annotations

import math

import torch

from mocap_hmr.geometry.cameras import tait_bryan


class CameraSampler:
    """Viewpoints with yaw ~ U(+-yaw), pitch ~ U(+-pitch), roll ~ U(+-roll) (degrees), and a
    focal length log-uniform in ``focal_range`` (in units of the crop size: 1.0 is a 53
    degree field of view, 3.0 a 19 degree one)."""

    def __init__(self, yaw: float = 180.0, pitch: float = 45.0, roll: float = 15.0,
                 focal_range: tuple[float, float] = (1.0, 3.0)):
        self.limits = tuple(math.radians(a) for a in (yaw, pitch, roll))
        self.focal_range = focal_range

    def sample(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """R (n, 3, 3), yaw, pitch, roll (n,) radians, focal (n,) in crop sizes."""
        device = generator.device
        u = torch.rand(n, 4, generator=generator, device=device)
        yaw, pitch, roll = ((2 * u[:, i] - 1) * limit for i, limit in enumerate(self.limits))
        lo, hi = (math.log(f) for f in self.focal_range)
        focal = torch.exp(lo + (hi - lo) * u[:, 3])
        return {"R": tait_bryan(yaw, pitch, roll), "yaw": yaw, "pitch": pitch, "roll": roll, "focal": focal}

