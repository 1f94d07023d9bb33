"""The change of frame between AMASS's Z-up world and SMPL's Y-up camera-friendly frame.

AMASS stores motion in a Z-up world (a standing subject's root orientation is about a +90
degree rotation about X). This project works in SMPL's Y-up frame, where a standing
subject with zero root orientation has its head at +Y and faces +Z. The change of frame is
the rotation ``ZUP_TO_YUP`` = -90 degrees about X: (x, y, z) -> (x, z, -y).

SMPL turns the body about its rest pelvis J0, which depends on the body model and its
betas, and then adds the translation: the pelvis sits at ``trans + J0``. Turning the whole
posed body by R about the origin therefore left-multiplies the root orientation by R and
changes the translation to ``R (trans + J0) - J0``, which differs from the vector ``R trans``
by ``(R - I) J0`` (about 0.3 m for ZUP_TO_YUP and SMPL's J0).

The AMASS loader does not know the body a corpus will drive, so it stores ``R trans``, the
change of frame with J0 = 0; ``yup_translation(trans, J0)`` completes it, at use time, for
the body in use (J0 from ``mocap_hmr.body.rest_pelvis(body, betas)``).
"""

from __future__ import annotations

import torch

from mocap_hmr.geometry.rotations import axis_angle_to_matrix, matrix_to_axis_angle

ZUP_TO_YUP = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]], dtype=torch.float64)


def change_frame(root_orient: torch.Tensor, trans: torch.Tensor, rotation: torch.Tensor,
                 pelvis: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The motion turned by ``rotation`` (3, 3) about the origin: root orientations (N, 3)
    axis-angle left-multiplied, translations (N, 3) -> ``R (trans + J0) - J0`` with ``pelvis``
    J0 (3,) or (N, 3) the rest pelvis of the body (None: J0 = 0, the vector ``R trans``)."""
    rotation = rotation.to(root_orient.dtype)
    root = matrix_to_axis_angle(rotation @ axis_angle_to_matrix(root_orient))
    pelvis = torch.zeros(3, dtype=trans.dtype, device=trans.device) if pelvis is None else pelvis.to(trans.dtype)
    return root, (trans + pelvis) @ rotation.T.to(trans.dtype) - pelvis


def zup_to_yup(root_orient: torch.Tensor, trans: torch.Tensor, pelvis: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """AMASS (Z up) -> SMPL (Y up). root_orient, trans: (N, 3); pelvis: see ``change_frame``."""
    return change_frame(root_orient, trans, ZUP_TO_YUP, pelvis)


def yup_to_zup(root_orient: torch.Tensor, trans: torch.Tensor, pelvis: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """SMPL (Y up) -> AMASS (Z up), the inverse of ``zup_to_yup`` for the same ``pelvis``."""
    return change_frame(root_orient, trans, ZUP_TO_YUP.T, pelvis)


def yup_translation(trans: torch.Tensor, pelvis: torch.Tensor) -> torch.Tensor:
    """The loader's Y-up translation (..., 3), ``ZUP_TO_YUP trans``, made exact for a body
    of rest pelvis ``pelvis`` J0 (3,) or (..., 3): ``+ (ZUP_TO_YUP - I) J0``."""
    shift = ZUP_TO_YUP.to(trans) - torch.eye(3, dtype=trans.dtype, device=trans.device)
    return trans + pelvis.to(trans) @ shift.T
