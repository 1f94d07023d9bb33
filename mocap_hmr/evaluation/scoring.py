"""Scores of predicted SMPL bodies against ground truth, under an explicit protocol.

Joints are regressed from the meshes with the body's ``J_regressor_h36m`` (SPIN's evaluation:
the 17 H36M joints, then the protocol's subset and alignment); vertices give MPVPE as VIBE
computes it (the paper's Table 4): both meshes in their body frame (SMPL without a
translation), compared as they are, with no alignment. Ground-truth bodies may have other
genders than the prediction's (3DPW: gendered ground truth, neutral predictions).
"""

from __future__ import annotations

import numpy as np
import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.metrics import Protocol, accel_error, align_joints, evaluate_joints, mpvpe

CHUNK = 64  # meshes per body-model call


def _in_chunks(body: BodyModel, rotmat: torch.Tensor, betas: torch.Tensor, compute) -> list[tuple[torch.Tensor, ...]]:
    """``compute(rotmat, betas)`` (a tuple of tensors) on ``CHUNK`` bodies at a time on the body's
    device, without gradients, each result on the CPU; the body must have the H36M regressor."""
    if body.J_regressor_h36m is None:
        raise MocapHMRError(f"evaluation needs the H36M joint regressor: no J_regressor_h36m.npy next to "
                            f"{body.model_file} (SPIN's data folder has it)")
    device = body.smpl.v_template.device
    with torch.no_grad():
        return [tuple(t.cpu() for t in compute(rotmat[first:first + CHUNK].to(device),
                                               betas[first:first + CHUNK].to(device)))
                for first in range(0, len(rotmat), CHUNK)]


def body_points(body: BodyModel, rotmat: torch.Tensor, betas: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """rotmat (N, 24, 3, 3), betas (N, 10) -> vertices (N, V, 3) and H36M joints (N, 17, 3), metres, on the CPU."""
    def mesh(r: torch.Tensor, b: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = body(r, b)
        return out.vertices, out.h36m_joints

    vertices, joints = zip(*_in_chunks(body, rotmat, betas, mesh), strict=True)
    return torch.cat(vertices), torch.cat(joints)


def body_joints(body: BodyModel, rotmat: torch.Tensor, betas: torch.Tensor) -> torch.Tensor:
    """``body_points``' joints (N, 17, 3) alone, without skinning meshes (``BodyModel.h36m_joints``)."""
    (joints,) = zip(*_in_chunks(body, rotmat, betas, lambda r, b: (body.h36m_joints(r, b),)), strict=True)
    return torch.cat(joints)


def gendered_points(bodies: dict[str, BodyModel], gender: np.ndarray, rotmat: torch.Tensor, betas: torch.Tensor
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """``body_points`` with each sample's body chosen by gender (N,) 'm' | 'f' | 'n'."""
    vertices = joints = None
    for key in np.unique(gender):
        if key not in bodies:
            raise MocapHMRError(f"ground truth needs the {key!r} body model, which is not loaded")
        rows = torch.from_numpy(np.flatnonzero(gender == key))
        v, j = body_points(bodies[key], rotmat[rows], betas[rows])
        if vertices is None:
            vertices = v.new_empty(len(gender), *v.shape[1:])
            joints = j.new_empty(len(gender), *j.shape[1:])
        vertices[rows], joints[rows] = v, j
    return vertices, joints


def score_frames(pred_joints: torch.Tensor, gt_joints: torch.Tensor, protocol: Protocol,
                 pred_vertices: torch.Tensor | None = None, gt_vertices: torch.Tensor | None = None
                 ) -> dict[str, np.ndarray]:
    """Per-sample MPJPE and PA-MPJPE (and MPVPE when both meshes (N, V, 3) are given, body
    frame, unaligned), in mm (N,)."""
    scores = {k: v.double().numpy() for k, v in evaluate_joints(pred_joints, gt_joints, protocol,
                                                                dtype=torch.float64).items()}
    if pred_vertices is not None and gt_vertices is not None:
        scores["mpvpe"] = mpvpe(pred_vertices, gt_vertices, align="none", dtype=torch.float64).numpy()
    return scores


def sequence_accel_error(pred_joints: torch.Tensor, gt_joints: torch.Tensor, sequences: list[np.ndarray],
                         protocol: Protocol) -> np.ndarray:
    """Acceleration error (mm/frame²) of every frame that has both neighbours, sequence by
    sequence (indices in frame order), on the protocol's aligned joints: (sum (len - 2),)."""
    pred = align_joints(pred_joints, joint_set=protocol.joint_set, align=protocol.align)
    gt = align_joints(gt_joints, joint_set=protocol.joint_set, align=protocol.align)
    errors = [accel_error(pred[idx], gt[idx], dtype=torch.float64).numpy() for idx in sequences if len(idx) >= 3]
    return np.concatenate(errors) if errors else np.zeros(0)
