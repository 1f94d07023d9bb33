"""PoseBERT's keypoint input (the paper's LCRNet++ experiment, naver/posebert's ``posebert_h36m``):
per frame, 17 H36M joints become the 6D rotation of a body frame plus the 16 non-pelvis
joints expressed in that frame, 6 + 48 = 54 values.

Following the release's preprocessing (its ``skeleton.py``, read for the facts):

1. optionally, every bone is rescaled to the length it has in a reference skeleton (the
   release uses the mean SMPL body's H36M joints), walking the H36M tree from the pelvis;
2. the joints are centred on the pelvis (row 0);
3. a body frame is found by alternately rotating the skeleton so that pelvis - spine (rows
   0 - 7) points along +y and left hip - right hip (rows 1 - 4, SPIN's row order) along +x,
   5 times (the two bones are not orthogonal: the alternation settles in between);
   ``root`` is the product of those rotations, and the frame's joints are ``root @ joint``.

In OpenCV camera axes (y down) that frame is an upright person facing the camera.
"""

from __future__ import annotations

import torch

from mocap_hmr.errors import InputShapeError
from mocap_hmr.geometry import matrix_to_rot6d

# (joint, parent) of the H36M skeleton, parents before children (rows of J_regressor_h36m)
H36M_BONES = ((1, 0), (2, 1), (3, 2), (4, 0), (5, 4), (6, 5), (7, 0), (8, 7), (11, 8), (12, 11), (13, 12),
              (9, 8), (10, 9), (14, 8), (15, 14), (16, 15))
KEYPOINT_FEATURES = 6 + 16 * 3
ALIGN_ITERATIONS = 5
_UP_BONE, _SIDE_BONE = (0, 7), (1, 4)  # pelvis - spine -> +y, left hip - right hip -> +x


def _check(joints: torch.Tensor, name: str = "joints") -> None:
    if joints.dim() < 2 or joints.shape[-2:] != (17, 3):
        raise InputShapeError(f"{name} has shape {tuple(joints.shape)}; expected (..., 17, 3) H36M joints "
                              "(rows of J_regressor_h36m, SPIN's order)")


def normalize_bone_lengths(joints: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """(..., 17, 3) joints with every bone rescaled to its length in ``reference`` (17, 3),
    keeping its direction (a zero-length bone stays zero)."""
    _check(joints)
    _check(reference, "reference")
    out = [None] * 17
    out[0] = joints[..., 0, :]
    for joint, parent in H36M_BONES:
        bone = joints[..., joint, :] - joints[..., parent, :]
        length = bone.norm(dim=-1, keepdim=True)
        target = (reference[joint] - reference[parent]).norm()
        out[joint] = out[parent] + torch.where(length > 0, bone * target / length.clamp_min(1e-12), bone)
    return torch.stack(out, dim=-2)


def rotation_onto(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The smallest rotation (..., 3, 3) turning direction ``a`` (..., 3) onto ``b`` (3,);
    the identity where ``a`` is zero or (anti)parallel to ``b``, as in the release."""
    a = a / a.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    b = (b / b.norm()).expand_as(a)
    v = torch.linalg.cross(a, b)
    c = (a * b).sum(-1)
    s2 = (v * v).sum(-1)
    zero = torch.zeros_like(c)
    vx = torch.stack([zero, -v[..., 2], v[..., 1], v[..., 2], zero, -v[..., 0], -v[..., 1], v[..., 0], zero],
                     -1).reshape(*v.shape, 3)
    eye = torch.eye(3, dtype=a.dtype, device=a.device).expand_as(vx)
    turn = eye + vx + vx @ vx * ((1 - c) / s2.clamp_min(1e-12))[..., None, None]
    return torch.where((s2 > 1e-12)[..., None, None], turn, eye)


def body_frame(joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(..., 17, 3) joints -> ``root`` (..., 3, 3) and the pelvis-centred joints in the body
    frame (..., 17, 3), ``relative = root @ (joints - pelvis)``."""
    _check(joints)
    relative = joints - joints[..., :1, :]
    root = torch.eye(3, dtype=joints.dtype, device=joints.device).expand(*joints.shape[:-2], 3, 3)
    axes = joints.new_tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    for _ in range(ALIGN_ITERATIONS):
        for (top, bottom), axis in zip((_UP_BONE, _SIDE_BONE), axes, strict=True):
            turn = rotation_onto(relative[..., top, :] - relative[..., bottom, :], axis)
            relative = relative @ turn.transpose(-1, -2)
            root = turn @ root
    return root, relative


def keypoint_features(joints: torch.Tensor, reference: torch.Tensor | None = None) -> torch.Tensor:
    """PoseBERT's keypoint input (..., 54): the body frame's rotation as 6D, then the 16
    non-pelvis joints in that frame; bones rescaled to ``reference`` (17, 3) when given."""
    if reference is not None:
        joints = normalize_bone_lengths(joints, reference.to(joints))
    root, relative = body_frame(joints)
    return torch.cat([matrix_to_rot6d(root), relative[..., 1:, :].flatten(-2)], -1)
