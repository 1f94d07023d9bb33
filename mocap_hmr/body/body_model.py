"""``BodyModel``: smplx.SMPL fed from our chumpy-free loader, with SPIN's and H36M's joints."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import smplx
import torch
from smplx.lbs import batch_rigid_transform, blend_shapes
from smplx.utils import Struct
from smplx.vertex_ids import vertex_ids as SMPLX_VERTEX_IDS

from mocap_hmr.body.joint_maps import SPIN_JOINT_SOURCES
from mocap_hmr.body.model_files import (
    VERTEX_IDS_KEY,
    find_model_file,
    load_model_file,
    normalize_gender,
)
from mocap_hmr.errors import InputShapeError, ModelFileError
from mocap_hmr.geometry import axis_angle_to_matrix

EXTRA_REGRESSOR_FILE = "J_regressor_extra.npy"
H36M_REGRESSOR_FILE = "J_regressor_h36m.npy"
SMPL_NUM_VERTICES = 6890
_FACE_VERTEX_KEYS = ("nose", "reye", "leye", "rear", "lear")


@dataclass
class BodyOutput:
    """What a body model forward returns.

    vertices: (B, V, 3); joints: (B, 24, 3) SMPL joints;
    spin_joints: (B, 49, 3) SPIN's joints, when J_regressor_extra.npy sits next to the model;
    h36m_joints: (B, 17, 3) from J_regressor_h36m.npy, when it sits next to the model.
    """

    vertices: torch.Tensor
    joints: torch.Tensor
    spin_joints: torch.Tensor | None = None
    h36m_joints: torch.Tensor | None = None


def _load_regressor(path: Path, n_rows: int, n_verts: int) -> torch.Tensor | None:
    if not path.is_file():
        return None
    try:
        reg = np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise ModelFileError(f"{path}: cannot be read as a .npy joint regressor ({exc})") from exc
    if reg.shape != (n_rows, n_verts):
        raise ModelFileError(
            f"{path}: has shape {reg.shape}, expected ({n_rows}, {n_verts}) for this body model"
        )
    return torch.as_tensor(reg, dtype=torch.float32)


class BodyModel(torch.nn.Module):
    """SMPL (or a body in SMPL's format) as a batched torch module.

    ``BodyModel(model_path, gender)``: ``model_path`` is a model file, a folder holding one
    (official names, ``SMPL_<GENDER>.pkl/.npz``, also in a ``smpl/`` subfolder), or ``None``
    for ``$SMPL_DIR`` and then the built stand-in body.
    """

    def __init__(self, model_path: str | os.PathLike | None = None, gender: str = "neutral",
                 num_betas: int = 10):
        super().__init__()
        self.gender = normalize_gender(gender)
        self.model_file = find_model_file(model_path, self.gender)
        data = load_model_file(self.model_file)
        n_verts = data["v_template"].shape[0]
        self.num_betas = min(num_betas, data["shapedirs"].shape[-1])
        vertex_ids = data.get(VERTEX_IDS_KEY)
        if vertex_ids is None and n_verts == SMPL_NUM_VERTICES:
            vertex_ids = SMPLX_VERTEX_IDS["smplh"]
        struct = Struct(**{k: v for k, v in data.items() if k != VERTEX_IDS_KEY})
        if vertex_ids:
            selector = {"vertex_ids": vertex_ids, "use_feet_keypoints": True}
        else:  # neither SMPL's topology nor ids of its own: no vertex joints (smplx needs 5)
            selector = {"vertex_ids": dict.fromkeys(_FACE_VERTEX_KEYS, 0),
                        "use_feet_keypoints": False}
        with contextlib.redirect_stdout(io.StringIO()):  # smplx prints a 10-betas warning
            self.smpl = smplx.SMPL(
                str(self.model_file), data_struct=struct, num_betas=self.num_betas,
                use_hands=False, create_betas=False, create_global_orient=False,
                create_body_pose=False, create_transl=False, **selector,
            )
        self.has_vertex_joints = bool(vertex_ids)
        extra = _load_regressor(self.model_file.parent / EXTRA_REGRESSOR_FILE, 9, n_verts)
        h36m = _load_regressor(self.model_file.parent / H36M_REGRESSOR_FILE, 17, n_verts)
        self.register_buffer("J_regressor_extra", extra, persistent=False)
        self.register_buffer("J_regressor_h36m", h36m, persistent=False)
        self.register_buffer("spin_joint_sources", torch.tensor(SPIN_JOINT_SOURCES),
                             persistent=False)
        self.uv = (data["vt"], data["ft"]) if "vt" in data and "ft" in data else None

    @property
    def faces(self) -> torch.Tensor:
        """(F, 3) long."""
        return self.smpl.faces_tensor

    @property
    def parents(self) -> torch.Tensor:
        """(24,) long, -1 for the root."""
        return self.smpl.parents

    @property
    def num_vertices(self) -> int:
        return self.smpl.v_template.shape[0]

    def _pose_matrices(self, pose: torch.Tensor) -> torch.Tensor:
        if pose.dim() == 2 and pose.shape[1] == 72:
            pose = pose.reshape(-1, 24, 3)
        if pose.dim() == 3 and pose.shape[1:] == (24, 3):
            return axis_angle_to_matrix(pose)
        if pose.dim() == 4 and pose.shape[1:] == (24, 3, 3):
            return pose
        raise InputShapeError(
            f"pose has shape {tuple(pose.shape)}; expected (B, 24, 3) axis-angle, (B, 72) or "
            "(B, 24, 3, 3) rotation matrices"
        )

    def _h36m_skin(self) -> dict[str, torch.Tensor]:
        """SMPL's skinning summed through the H36M regressor, for ``h36m_joints``. A regressed joint
        is linear in the skinned vertices, which are linear in each bone's transform A_k:
        J_j = sum_k A_k [m_jk; w_jk] with w_jk = sum_v R_jv W_vk and m_jk = sum_v R_jv W_vk
        v_posed_v, itself linear in the betas and the pose feature; so the sums over vertices are
        taken once here: "weight" w (17, 24), "template" (17, 24, 3), "shapedirs" (17, 24, 3, B),
        "posedirs" (17, 24, 3, 207), and the skeleton's rest joints from the betas: "joints"
        (24, 3), "joint_shapedirs" (24, 3, B). Made on first use and again after a move to another
        device or dtype; not buffers: derived from the model's own, they stay out of its state and
        fingerprint."""
        smpl, h36m = self.smpl, self.J_regressor_h36m
        cached = getattr(self, "_h36m_skin_cache", None)
        if cached is not None and cached["weight"].device == h36m.device and cached["weight"].dtype == h36m.dtype:
            return cached
        keep = (h36m != 0).any(0).nonzero()[:, 0]
        skin = h36m[:, keep, None] * smpl.lbs_weights[None, keep]  # (17, V', 24)
        posedirs = smpl.posedirs.reshape(len(smpl.posedirs), -1, 3)[:, keep]  # (207, V', 3)
        self._h36m_skin_cache = {
            "weight": skin.sum(1), "template": torch.einsum("jvk,vc->jkc", skin, smpl.v_template[keep]),
            "shapedirs": torch.einsum("jvk,vcl->jkcl", skin, smpl.shapedirs[keep]),
            "posedirs": torch.einsum("jvk,pvc->jkcp", skin, posedirs),
            "joints": smpl.J_regressor @ smpl.v_template,
            "joint_shapedirs": torch.einsum("jv,vcl->jcl", smpl.J_regressor, smpl.shapedirs)}
        return self._h36m_skin_cache

    def _inputs(self, pose: torch.Tensor, betas: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 24, 3, 3) rotations and (B, num_betas) betas of ``forward``'s arguments, checked."""
        rotmats = self._pose_matrices(pose).to(self.smpl.v_template.dtype)
        batch = rotmats.shape[0]
        if betas is None:
            betas = rotmats.new_zeros(batch, self.num_betas)
        if betas.dim() != 2 or betas.shape[0] != batch or betas.shape[1] > self.num_betas:
            raise InputShapeError(
                f"betas has shape {tuple(betas.shape)}; expected ({batch}, n) with n <= "
                f"{self.num_betas}, the shape directions of {self.model_file}"
            )
        if betas.shape[1] < self.num_betas:
            betas = torch.cat([betas, betas.new_zeros(batch, self.num_betas - betas.shape[1])], 1)
        return rotmats, betas

    def forward(self, pose: torch.Tensor, betas: torch.Tensor | None = None,
                transl: torch.Tensor | None = None) -> BodyOutput:
        """pose: (B, 24, 3) | (B, 72) | (B, 24, 3, 3); betas: (B, <=num_betas); transl: (B, 3)."""
        rotmats, betas = self._inputs(pose, betas)
        batch = rotmats.shape[0]
        if transl is not None and transl.shape != (batch, 3):
            raise InputShapeError(f"transl has shape {tuple(transl.shape)}; expected ({batch}, 3)")
        out = self.smpl(
            betas=betas, global_orient=rotmats[:, :1], body_pose=rotmats[:, 1:], transl=transl,
            pose2rot=False,
        )
        vertices, joints = out.vertices, out.joints
        spin = h36m = None
        if self.J_regressor_extra is not None and self.has_vertex_joints:
            extra = torch.einsum("jv,bvc->bjc", self.J_regressor_extra, vertices)
            spin = torch.cat([joints[:, :35], extra], dim=1)[:, self.spin_joint_sources]
        if self.J_regressor_h36m is not None:
            h36m = torch.einsum("jv,bvc->bjc", self.J_regressor_h36m, vertices)
        return BodyOutput(vertices=vertices, joints=joints[:, :24], spin_joints=spin,
                          h36m_joints=h36m)

    def h36m_joints(self, pose: torch.Tensor, betas: torch.Tensor | None = None) -> torch.Tensor:
        """(B, 17, 3): ``forward(pose, betas).h36m_joints`` without skinning the mesh: the bones'
        transforms (smplx's ``batch_rigid_transform``) applied to the regressor's sums over the
        vertices (``_h36m_skin``), a fifteenth of the arithmetic for scoring that needs joints and
        no vertices. Arguments as ``forward``'s."""
        if self.J_regressor_h36m is None:
            raise ModelFileError(f"no {H36M_REGRESSOR_FILE} next to {self.model_file}: no H36M joints")
        rotmats, betas = self._inputs(pose, betas)
        skin = self._h36m_skin()
        eye = torch.eye(3, dtype=rotmats.dtype, device=rotmats.device)
        pose_feature = (rotmats[:, 1:] - eye).flatten(1)  # (B, 207)
        rest = skin["joints"] + blend_shapes(betas, skin["joint_shapedirs"])  # (B, 24, 3)
        _, bones = batch_rigid_transform(rotmats, rest, self.smpl.parents, dtype=rotmats.dtype)  # (B, 24, 4, 4)
        points = (skin["template"] + torch.einsum("jkcl,bl->bjkc", skin["shapedirs"], betas)
                  + torch.einsum("jkcp,bp->bjkc", skin["posedirs"], pose_feature))  # (B, 17, 24, 3)
        return (torch.einsum("bkcd,bjkd->bjc", bones[:, :, :3, :3], points)
                + torch.einsum("bkc,jk->bjc", bones[:, :, :3, 3], skin["weight"]))


def rest_pelvis(body: BodyModel, betas: torch.Tensor) -> torch.Tensor:
    """J0, the rest pelvis (B, 3) of ``body`` with betas (B, <= num_betas): the point SMPL
    turns the body about (see ``mocap_hmr.geometry.frames``)."""
    dtype = body.smpl.v_template.dtype
    with torch.no_grad():
        return body(torch.zeros(len(betas), 24, 3, dtype=dtype, device=betas.device), betas.to(dtype)).joints[:, 0]
