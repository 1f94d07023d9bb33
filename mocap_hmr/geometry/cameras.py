"""Cameras and projections: Tait-Bryan view rotations, the OpenCV flip, placing a body in
front of a camera, the pinhole projection, and SPIN's weak-perspective camera.

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
Pixel (row i, column j) has its centre at (x, y) = (j + 0.5, i + 0.5) after the pinhole
projection ``x = fx * X / Z + cx``, ``y = fy * Y / Z + cy`` (``project``).

SPIN's camera is weak-perspective ``[s, tx, ty]`` for a crop of ``SPIN_IMG_RES`` px seen
with focal ``FOCAL_LENGTH`` px: the perspective translation ``[tx, ty, 2 f / (S s)]``
(``spin_camera_translation``), 2D points divided by S / 2 (``project_spin``).
"""

from __future__ import annotations

import torch

FLIP = torch.diag(torch.tensor([1.0, -1.0, -1.0]))
FOCAL_LENGTH = 5000.0  # SPIN's focal length, pixels
SPIN_IMG_RES = 224  # SPIN's crop size, pixels


def tait_bryan(yaw: torch.Tensor, pitch: torch.Tensor, roll: torch.Tensor) -> torch.Tensor:
    """View rotations (n, 3, 3) = R_z(roll) @ R_x(pitch) @ R_y(yaw); angles (n,) in radians."""
    cy, sy, cp, sp, cr, sr = (f(a) for a in (yaw, pitch, roll) for f in (torch.cos, torch.sin))
    rows = [
        cr * cy - sr * sp * sy, -sr * cp, cr * sy + sr * sp * cy,
        sr * cy + cr * sp * sy, cr * cp, sr * sy - cr * sp * cy,
        -cp * sy, sp, cp * cy,
    ]
    return torch.stack(rows, dim=-1).reshape(*yaw.shape, 3, 3)


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


def project(verts: torch.Tensor, focal: torch.Tensor, principal: torch.Tensor) -> torch.Tensor:
    """Pinhole projection. verts: (N, V, 3); focal, principal: (N, 2) pixels -> (N, V, 2)."""
    z = verts[..., 2:].clamp(min=1e-8)
    return verts[..., :2] / z * focal[:, None] + principal[:, None]


def weak_perspective(cam_t: torch.Tensor, focal: torch.Tensor, principal: torch.Tensor, size: int) -> torch.Tensor:
    """SPIN's [s, tx, ty] for a body at ``cam_t`` seen with these intrinsics in a crop of
    ``size`` px: s = 2 f / (S t_z), and the principal point's offset from the crop centre
    folded into tx, ty (exact at the depth t_z)."""
    s = 2 * focal[:, 0] / (size * cam_t[:, 2])
    offset = (principal - size / 2) * cam_t[:, 2:] / focal
    return torch.stack([s, cam_t[:, 0] + offset[:, 0], cam_t[:, 1] + offset[:, 1]], dim=1)


def spin_camera_translation(camera: torch.Tensor, img_res: int = SPIN_IMG_RES,
                            focal: float = FOCAL_LENGTH) -> torch.Tensor:
    """Weak-perspective [s, tx, ty] (B, 3) -> SPIN's perspective translation (B, 3)."""
    return torch.stack([camera[:, 1], camera[:, 2], 2 * focal / (img_res * camera[:, 0] + 1e-9)], dim=-1)


def project_spin(joints: torch.Tensor, camera: torch.Tensor, img_res: int = SPIN_IMG_RES,
                 focal: float = FOCAL_LENGTH) -> torch.Tensor:
    """Joints (B, J, 3) in the body frame, camera (B, 3) -> normalized 2D (B, J, 2) in [-1, 1]."""
    points = joints + spin_camera_translation(camera, img_res, focal)[:, None]
    return focal * points[..., :2] / points[..., 2:] / (img_res / 2)
