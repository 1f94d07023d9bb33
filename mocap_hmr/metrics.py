"""Evaluation metrics with explicit protocols: MPJPE, PA-MPJPE, MPVPE, acceleration (error).

Inputs are positions in **metres**; every metric returns **millimetres** (acceleration:
mm/frame^2, or mm/s^2 when ``fps`` is given), one value per sample, as a torch tensor on the
inputs' device. Numpy arrays are accepted too. ``dtype`` picks the dtype of the computation and
the result (e.g. ``torch.float64`` for reference numbers); by default the inputs' own.

A *protocol* is a joint set plus a root alignment; published numbers differ by protocol, so
``Protocol`` objects describe themselves for result files (``describe()``, ``as_dict()``).

Joint sets (what the input holds -> what is scored):

    lsp14   17 H36M-regressor joints (J_regressor_h36m on the mesh) -> 14 LSP joints
            (SPIN's H36M_TO_J14; 3DPW and Human3.6M in SPIN, VIBE, TCMR, WHAM)
    h36m17  17 H36M-regressor joints -> all 17, in SPIN's J17 order (H36M_TO_J17, MPI-INF-3DHP
            in SPIN); the order does not change metrics that average over joints
    smpl24  24 SMPL joints -> all 24

Alignments (applied to prediction and ground truth separately, before the subset is taken):

    none    positions as given
    pelvis  subtract the pelvis: H36M joint 0 (SPIN eval.py), SMPL joint 0 for smpl24
    hips    subtract the midpoint of the two hips: LSP joints 2 and 3 = H36M joints 4 and 1
            (VIBE, TCMR, WHAM), SMPL joints 1 and 2 for smpl24

PA-MPJPE does not depend on the alignment: Procrustes removes any translation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from mocap_hmr.errors import InputShapeError
from mocap_hmr.geometry.procrustes import procrustes_align

__all__ = [
    "ALIGNS",
    "H36M_TO_J14",
    "H36M_TO_J17",
    "JOINT_SETS",
    "PRESETS",
    "SPIN_3DPW",
    "SPIN_H36M",
    "SPIN_MPI_INF",
    "VIBE_3DPW",
    "JointSet",
    "Protocol",
    "accel_error",
    "acceleration",
    "align_joints",
    "evaluate_joints",
    "mpjpe",
    "mpvpe",
    "pa_mpjpe",
]

M_TO_MM = 1000.0

# SPIN constants.py: the 14 LSP joints, then pelvis, spine and head, as rows of the 17 H36M joints.
H36M_TO_J17 = (6, 5, 4, 1, 2, 3, 16, 15, 14, 11, 12, 13, 8, 10, 0, 7, 9)
H36M_TO_J14 = H36M_TO_J17[:14]


@dataclass(frozen=True)
class JointSet:
    """Which joints an input holds and which are scored. Indices are rows of the input."""

    source: int  # joints the input must have
    indices: tuple[int, ...]  # scored joints, in output order
    pelvis: int  # subtracted by align="pelvis"
    hips: tuple[int, int]  # their midpoint is subtracted by align="hips"
    about: str


_LSP_HIPS = (H36M_TO_J14[2], H36M_TO_J14[3])  # LSP joints 2 and 3 = H36M rows 4 and 1

JOINT_SETS = {
    "lsp14": JointSet(
        source=17,
        indices=H36M_TO_J14,
        pelvis=0,
        hips=_LSP_HIPS,
        about="14 LSP joints from the 17 H36M-regressor joints (SPIN H36M_TO_J14)",
    ),
    "h36m17": JointSet(
        source=17,
        indices=H36M_TO_J17,
        pelvis=0,
        hips=_LSP_HIPS,
        about="17 H36M-regressor joints in SPIN's J17 order (H36M_TO_J17)",
    ),
    "smpl24": JointSet(source=24, indices=tuple(range(24)), pelvis=0, hips=(1, 2), about="24 SMPL joints"),
}

ALIGNS = {
    "none": "no alignment",
    "pelvis": "pelvis joint subtracted (H36M joint 0 / SMPL joint 0), as SPIN eval.py",
    "hips": "midpoint of the two hips subtracted (LSP joints 2, 3 / SMPL joints 1, 2), as VIBE/TCMR/WHAM",
}


def _joint_set(name: str) -> JointSet:
    if name not in JOINT_SETS:
        raise ValueError(f"unknown joint_set {name!r}; accepted: {', '.join(JOINT_SETS)}")
    return JOINT_SETS[name]


def _check_align(align: str) -> None:
    if align not in ALIGNS:
        raise ValueError(f"unknown align {align!r}; accepted: {', '.join(ALIGNS)}")


def _tensor(x: torch.Tensor | np.ndarray, dtype: torch.dtype | None) -> torch.Tensor:
    """A floating tensor in ``dtype`` (default: the input's, or torch's default for integers)."""
    t = torch.as_tensor(x)
    if dtype is None:
        dtype = t.dtype if t.is_floating_point() else torch.get_default_dtype()
    return t.to(dtype)


def _pair(what: str, pred, gt, dtype: torch.dtype | None) -> tuple[torch.Tensor, torch.Tensor]:
    """pred and gt as tensors of the same (N, J, 3) shape."""
    pred, gt = _tensor(pred, dtype), _tensor(gt, dtype)
    if pred.dim() != 3 or pred.shape[-1] != 3 or pred.shape != gt.shape:
        raise InputShapeError(
            f"{what}: pred has shape {tuple(pred.shape)} and gt {tuple(gt.shape)}; "
            "both must be (N, J, 3) with the same N and J"
        )
    return pred, gt


def _check_source(what: str, joints: torch.Tensor, joint_set: str) -> JointSet:
    js = _joint_set(joint_set)
    if joints.dim() != 3 or joints.shape[1:] != (js.source, 3):
        raise InputShapeError(
            f"{what}: joints have shape {tuple(joints.shape)}; joint_set {joint_set!r} "
            f"({js.about}) takes (N, {js.source}, 3)"
        )
    return js


def _root(joints: torch.Tensor, js: JointSet, align: str) -> torch.Tensor:
    """The point ``align`` subtracts. joints: (N, source, 3) -> (N, 1, 3)."""
    if align == "pelvis":
        return joints[:, js.pelvis : js.pelvis + 1]
    if align == "hips":
        return joints[:, list(js.hips)].mean(dim=1, keepdim=True)
    return torch.zeros_like(joints[:, :1])


def align_joints(joints: torch.Tensor, *, joint_set: str, align: str, what: str = "align_joints") -> torch.Tensor:
    """Root-align, then select. joints: (N, source, 3) in the joint set's input layout ->
    (N, len(indices), 3), same units."""
    _check_align(align)
    js = _check_source(what, joints, joint_set)
    return (joints - _root(joints, js, align))[:, list(js.indices)]


def _per_joint_mm(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """Mean Euclidean distance over joints, in mm. (N, J, 3) in metres -> (N,)."""
    return (pred - gt).norm(dim=-1).mean(dim=-1) * M_TO_MM


def mpjpe(pred, gt, *, joint_set: str = "lsp14", align: str = "pelvis", dtype: torch.dtype | None = None):
    """Mean per-joint position error, mm. pred, gt: (N, source, 3) metres -> (N,).

    Defaults are SPIN's 3DPW protocol (``SPIN_3DPW``); VIBE's is ``align="hips"``.
    """
    pred, gt = _pair("mpjpe", pred, gt, dtype)
    pred = align_joints(pred, joint_set=joint_set, align=align, what="mpjpe pred")
    gt = align_joints(gt, joint_set=joint_set, align=align, what="mpjpe gt")
    return _per_joint_mm(pred, gt)


def pa_mpjpe(pred, gt, *, joint_set: str = "lsp14", dtype: torch.dtype | None = None):
    """MPJPE after the similarity Procrustes of each prediction onto its ground truth, mm.

    pred, gt: (N, source, 3) metres -> (N,). Independent of any root alignment.
    """
    pred, gt = _pair("pa_mpjpe", pred, gt, dtype)
    pred = align_joints(pred, joint_set=joint_set, align="none", what="pa_mpjpe pred")
    gt = align_joints(gt, joint_set=joint_set, align="none", what="pa_mpjpe gt")
    return _per_joint_mm(procrustes_align(pred, gt), gt)


def mpvpe(
    pred,
    gt,
    *,
    align: str = "none",
    pred_joints=None,
    gt_joints=None,
    joint_set: str = "lsp14",
    dtype: torch.dtype | None = None,
):
    """Mean per-vertex position error, mm. pred, gt: (N, V, 3) metres -> (N,).

    ``align="none"`` compares the vertices as given (VIBE). ``"pelvis"`` / ``"hips"`` subtract
    from each mesh the root of its own joints (WHAM: the hips of the 14 LSP joints), so they need
    ``pred_joints`` and ``gt_joints``, (N, source, 3) in ``joint_set``'s input layout.
    """
    _check_align(align)
    pred, gt = _pair("mpvpe", pred, gt, dtype)
    if align != "none":
        if pred_joints is None or gt_joints is None:
            raise ValueError(f"mpvpe: align={align!r} needs pred_joints and gt_joints to find the root")
        pred_joints, gt_joints = _pair("mpvpe joints", pred_joints, gt_joints, pred.dtype)
        js = _check_source("mpvpe joints", pred_joints, joint_set)
        pred = pred - _root(pred_joints.to(pred.device), js, align)
        gt = gt - _root(gt_joints.to(gt.device), js, align)
    return _per_joint_mm(pred, gt)


def _second_difference(seq: torch.Tensor) -> torch.Tensor:
    """x[t-1] - 2 x[t] + x[t+1]. (N, J, 3) -> (N-2, J, 3)."""
    return seq[:-2] - 2.0 * seq[1:-1] + seq[2:]


def _per_second_sq(values: torch.Tensor, fps: float | None) -> torch.Tensor:
    """Per frame^2 -> per s^2 (x fps^2) when fps is given."""
    return values if fps is None else values * float(fps) ** 2


def _check_sequence(what: str, seq: torch.Tensor) -> None:
    if seq.dim() != 3 or seq.shape[-1] != 3 or seq.shape[0] < 3:
        raise InputShapeError(f"{what}: sequence has shape {tuple(seq.shape)}; expected (N, J, 3) with N >= 3 frames")


def accel_error(pred, gt, *, fps: float | None = None, dtype: torch.dtype | None = None):
    """Acceleration error of one sequence. pred, gt: (N, J, 3) metres -> (N-2,).

    Per frame t = 1 .. N-2: ``|a_pred(t) - a_gt(t)|`` averaged over joints, with
    ``a(t) = x[t-1] - 2 x[t] + x[t+1]``. Unit: **mm/frame^2** without ``fps`` (VIBE's and TCMR's
    "Accel Error", 3DPW at 30 fps); **mm/s^2** with ``fps`` (the value times fps^2; WHAM reports
    this times 1e-3, in m/s^2). Joints are used as given: align and select them first
    (``align_joints``) to follow a protocol; VIBE uses hips-aligned ``lsp14``.
    """
    pred, gt = _pair("accel_error", pred, gt, dtype)
    _check_sequence("accel_error", pred)
    err = (_second_difference(pred) - _second_difference(gt)).norm(dim=-1).mean(dim=-1) * M_TO_MM
    return _per_second_sq(err, fps)


def acceleration(seq, *, fps: float | None = None, dtype: torch.dtype | None = None):
    """Acceleration magnitude of one sequence (jitter, no ground truth). seq: (N, J, 3) metres -> (N-2,).

    ``|x[t-1] - 2 x[t] + x[t+1]|`` averaged over joints: **mm/frame^2**, or **mm/s^2** with ``fps``.
    """
    seq = _tensor(seq, dtype)
    _check_sequence("acceleration", seq)
    return _per_second_sq(_second_difference(seq).norm(dim=-1).mean(dim=-1) * M_TO_MM, fps)


@dataclass(frozen=True)
class Protocol:
    """A joint set and a root alignment; ``name`` is a label only (not compared)."""

    joint_set: str
    align: str
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        _joint_set(self.joint_set)
        _check_align(self.align)

    def describe(self) -> str:
        """One line for logs and result files."""
        label = f"{self.name}: " if self.name else ""
        return (
            f"{label}joints={self.joint_set} ({JOINT_SETS[self.joint_set].about}); "
            f"align={self.align} ({ALIGNS[self.align]}); PA = similarity Procrustes per sample; mm"
        )

    def as_dict(self) -> dict[str, str]:
        """Plain fields plus the description, for JSON/YAML result files."""
        return {"name": self.name, "joint_set": self.joint_set, "align": self.align, "description": self.describe()}


# Sources (facts, checked in the repositories): nkolot/SPIN eval.py lines 120 (H36M_TO_J14, or
# H36M_TO_J17 for mpi-inf-3dhp) and 159-170 (H36M joint 0 subtracted from prediction and 3DPW ground
# truth); Human3.6M and MPI-INF-3DHP ground truth is root-centred at preprocessing
# (datasets/preprocess/h36m.py line 87, mpi_inf_3dhp.py line 193). mkocabas/VIBE lib/core/evaluate.py
# lines 119-124 (midpoint of joints 2 and 3 of the 14 LSP joints from lib/models/spin.py line 280).
SPIN_3DPW = Protocol("lsp14", "pelvis", name="SPIN_3DPW")
SPIN_H36M = Protocol("lsp14", "pelvis", name="SPIN_H36M")
SPIN_MPI_INF = Protocol("h36m17", "pelvis", name="SPIN_MPI_INF")
VIBE_3DPW = Protocol("lsp14", "hips", name="VIBE_3DPW")
PRESETS = {p.name: p for p in (SPIN_3DPW, SPIN_H36M, SPIN_MPI_INF, VIBE_3DPW)}


def evaluate_joints(pred, gt, protocol: Protocol, *, dtype: torch.dtype | None = None) -> dict[str, torch.Tensor]:
    """MPJPE and PA-MPJPE under ``protocol``. pred, gt: (N, source, 3) metres, 17 H36M-regressor
    joints or 24 SMPL joints as the joint set takes. Returns ``{"mpjpe": (N,), "pa_mpjpe": (N,)}`` in mm."""
    return {
        "mpjpe": mpjpe(pred, gt, joint_set=protocol.joint_set, align=protocol.align, dtype=dtype),
        "pa_mpjpe": pa_mpjpe(pred, gt, joint_set=protocol.joint_set, dtype=dtype),
    }
