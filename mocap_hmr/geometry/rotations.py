"""Rotation conversions: axis-angle <-> rotation matrix <-> SPIN's 6D.

All functions are batched over any leading shape, differentiable, and stay accurate
near angle 0 (Taylor expansions instead of 0/0) and near angle pi (the matrix -> axis-angle
direction goes through a quaternion chosen by Shepperd's method, never through a division
by sin(angle)).

6D convention (SPIN, PoseBERT): the first two *columns* of the rotation matrix, laid out
as the row-major flattening of the (3, 2) block ``R[..., :, :2]``, i.e.
``[R00, R01, R10, R11, R20, R21]``. Back to a matrix by Gram-Schmidt.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "axis_angle_to_matrix",
    "matrix_to_axis_angle",
    "rot6d_to_matrix",
    "matrix_to_rot6d",
    "axis_angle_to_rot6d",
    "rot6d_to_axis_angle",
    "matrix_to_quaternion",
    "quaternion_to_axis_angle",
]

# Below this squared angle the closed forms lose precision; use second-order Taylor terms.
_SMALL_ANGLE_SQ = 1e-6


def _skew(v: torch.Tensor) -> torch.Tensor:
    """Cross-product matrices. v: (..., 3) -> (..., 3, 3)."""
    x, y, z = v.unbind(-1)
    zero = torch.zeros_like(x)
    return torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(*v.shape, 3)


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula. axis_angle: (..., 3) -> (..., 3, 3)."""
    theta_sq = (axis_angle * axis_angle).sum(-1, keepdim=True)[..., None]  # (..., 1, 1)
    small = theta_sq < _SMALL_ANGLE_SQ
    safe_sq = torch.where(small, torch.ones_like(theta_sq), theta_sq)
    safe_theta = safe_sq.sqrt()
    # sin(t)/t and (1 - cos(t))/t^2 with their Taylor series near 0.
    a = torch.where(small, 1.0 - theta_sq / 6.0, torch.sin(safe_theta) / safe_theta)
    b = torch.where(small, 0.5 - theta_sq / 24.0, (1.0 - torch.cos(safe_theta)) / safe_sq)
    k = _skew(axis_angle)
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device)
    return eye + a * k + b * (k @ k)


def matrix_to_quaternion(matrix: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) -> unit quaternions (..., 4) as (w, x, y, z), w >= 0.

    Shepperd's method: four candidate quaternions, each well conditioned where its
    largest component is; the best conditioned one is kept.
    """
    m = matrix
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    # 4 * q_i^2 for i = w, x, y, z
    four_sq = torch.stack(
        [
            1.0 + m00 + m11 + m22,
            1.0 + m00 - m11 - m22,
            1.0 - m00 + m11 - m22,
            1.0 - m00 - m11 + m22,
        ],
        dim=-1,
    )
    # Each row: the quaternion scaled by 4 * q_i (computed from off-diagonal terms).
    candidates = torch.stack(
        [
            torch.stack([four_sq[..., 0], m21 - m12, m02 - m20, m10 - m01], dim=-1),
            torch.stack([m21 - m12, four_sq[..., 1], m10 + m01, m02 + m20], dim=-1),
            torch.stack([m02 - m20, m10 + m01, four_sq[..., 2], m12 + m21], dim=-1),
            torch.stack([m10 - m01, m20 + m02, m21 + m12, four_sq[..., 3]], dim=-1),
        ],
        dim=-2,
    )  # (..., 4, 4)
    q_abs = torch.sqrt(four_sq.clamp(min=1e-12))  # 2 * |q_i|
    candidates = candidates / (2.0 * q_abs[..., None])
    best = four_sq.argmax(dim=-1)
    quat = torch.gather(candidates, -2, best[..., None, None].expand(*best.shape, 1, 4))[..., 0, :]
    quat = F.normalize(quat, dim=-1)
    return torch.where(quat[..., :1] < 0, -quat, quat)


def quaternion_to_axis_angle(quaternion: torch.Tensor) -> torch.Tensor:
    """Unit quaternions (..., 4) as (w, x, y, z) -> axis-angle (..., 3), angle in [0, pi]."""
    quaternion = torch.where(quaternion[..., :1] < 0, -quaternion, quaternion)
    w, xyz = quaternion[..., :1], quaternion[..., 1:]
    sin_half_sq = (xyz * xyz).sum(-1, keepdim=True)
    small = sin_half_sq < _SMALL_ANGLE_SQ
    safe_sin_half = torch.where(small, torch.ones_like(sin_half_sq), sin_half_sq).sqrt()
    angle = 2.0 * torch.atan2(safe_sin_half, w)
    # angle / sin(angle/2) = 2 atan(s/w) / s, which near s = 0 is 2/w * (1 - s^2 / (3 w^2)).
    factor = torch.where(small, 2.0 / w * (1.0 - sin_half_sq / (3.0 * w * w)), angle / safe_sin_half)
    return xyz * factor


def matrix_to_axis_angle(matrix: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) -> axis-angle (..., 3), angle in [0, pi]."""
    return quaternion_to_axis_angle(matrix_to_quaternion(matrix))


def rot6d_to_matrix(rot6d: torch.Tensor) -> torch.Tensor:
    """SPIN's 6D (..., 6) -> rotation matrices (..., 3, 3) by Gram-Schmidt on the two columns."""
    cols = rot6d.reshape(*rot6d.shape[:-1], 3, 2)
    b1 = F.normalize(cols[..., 0], dim=-1)
    a2 = cols[..., 1]
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    b3 = torch.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-1)


def matrix_to_rot6d(matrix: torch.Tensor) -> torch.Tensor:
    """Rotation matrices (..., 3, 3) -> SPIN's 6D (..., 6): the first two columns."""
    return matrix[..., :, :2].reshape(*matrix.shape[:-2], 6)


def axis_angle_to_rot6d(axis_angle: torch.Tensor) -> torch.Tensor:
    """Axis-angle (..., 3) -> 6D (..., 6)."""
    return matrix_to_rot6d(axis_angle_to_matrix(axis_angle))


def rot6d_to_axis_angle(rot6d: torch.Tensor) -> torch.Tensor:
    """6D (..., 6) -> axis-angle (..., 3)."""
    return matrix_to_axis_angle(rot6d_to_matrix(rot6d))
