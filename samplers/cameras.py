"""Tait-Bryan camera viewpoints and their placement, batched on the caller's device.

Frames: the body's world is SMPL's (Y up, a body with zero root orientation faces +Z).
The *view rotation* ``R`` takes world points into a Y-up view frame whose camera sits on
the +Z axis looking towards -Z; ``R = I`` is a horizontal view of the body's front.

    R = R_z(roll) @ R_x(pitch) @ R_y(yaw)

applied to column vectors: first the body turns by ``yaw`` about the vertical (Y) axis
(yaw = pi shows its back), then the view pitches about the horizontal X axis (pitch > 0
tilts the top of the body towards the camera: a view from above), then rolls about the
optical (Z) axis (roll > 0 turns the image counter-clockwise as the camera sees it). At
R = I the yaw axis is vertical and the pitch and roll axes are horizontal.

OpenCV camera coordinates (x right, y down, z forward), which the rasterizer takes, are
``FLIP @ R @ p + t`` with ``FLIP = diag(1, -1, -1)``; ``place_in_front`` computes ``t``.
"""

from __future__ import annotations

import math

import torch

FLIP = torch.diag(torch.tensor([1.0, -1.0, -1.0]))


def tait_bryan(yaw: torch.Tensor, pitch: torch.Tensor, roll: torch.Tensor) -> torch.Tensor:
    """View rotations (n, 3, 3) = R_z(roll) @ R_x(pitch) @ R_y(yaw); angles (n,) in radians."""
    cy, sy, cp, sp, cr, sr = (f(a) for a in (yaw, pitch, roll) for f in (torch.cos, torch.sin))
    rows = [
        cr * cy - sr * sp * sy, -sr * cp, cr * sy + sr * sp * cy,
        sr * cy + cr * sp * sy, cr * cp, sr * sy - cr * sp * cy,
        -cp * sy, sp, cp * cy,
    ]
    return torch.stack(rows, dim=-1).reshape(*yaw.shape, 3, 3)


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


def place_in_front(points_view: torch.Tensor, focal: torch.Tensor, fill: float = 0.8) -> torch.Tensor:
    """OpenCV-frame translation (n, 3) putting rotated points in front of the camera.

    points_view: (n, P, 3) = R @ p, Y-up view frame; focal: (n,) in units of the image
    size. The points' bounding-box centre lands on the optical axis, at the depth where
    the larger of their width and height spans ``fill`` of the image.
    """
    cam = points_view @ FLIP.to(points_view)
    lo, hi = cam.amin(dim=1), cam.amax(dim=1)
    centre = (lo + hi) / 2
    extent = (hi - lo)[:, :2].amax(dim=1)
    depth = focal * extent / fill + (hi - lo)[:, 2] / 2  # the box's front face at that distance
    return torch.stack([-centre[:, 0], -centre[:, 1], depth - centre[:, 2]], dim=1)
