"""AMASS's Z-up world and SMPL's Y-up camera-friendly frame.

AMASS stores motion in a Z-up world (a standing subject's root orientation is about a +90
degree rotation about X). This project works in SMPL's Y-up frame, where a standing
subject with zero root orientation has its head at +Y and faces +Z. The change of frame is
the rotation ``ZUP_TO_YUP`` = -90 degrees about X: (x, y, z) -> (x, z, -y). It is applied
to the root orientation (left-multiplied) and to the translation (as a vector), once, at
load time. SMPL rotates the body about its pelvis joint J0, not the origin, so rotating the
translation as a vector leaves a constant offset of (ZUP_TO_YUP - I) @ J0 (a few
centimetres, constant per subject), which nothing here depends on.
"""

from __future__ import annotations

import torch

from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_axis_angle

ZUP_TO_YUP = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]], dtype=torch.float64)


def change_frame(root_orient: torch.Tensor, trans: torch.Tensor, rotation: torch.Tensor
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-multiply root orientations (N, 3) axis-angle and rotate translations (N, 3)."""
    rotation = rotation.to(root_orient.dtype)
    root = matrix_to_axis_angle(rotation @ axis_angle_to_matrix(root_orient))
    return root, trans @ rotation.T.to(trans.dtype)


def zup_to_yup(root_orient: torch.Tensor, trans: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """AMASS (Z up) -> SMPL (Y up). root_orient, trans: (N, 3)."""
    return change_frame(root_orient, trans, ZUP_TO_YUP)


def yup_to_zup(root_orient: torch.Tensor, trans: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """SMPL (Y up) -> AMASS (Z up), the inverse of ``zup_to_yup``."""
    return change_frame(root_orient, trans, ZUP_TO_YUP.T)
