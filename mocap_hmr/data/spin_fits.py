"""SPIN's final fits (``data/static_fits/<dataset>_fits.npy``) and the test SPIN's trainer
puts a fit through before it supervises a sample with it.

A fits file is (N, 82) float: pose 72 (axis-angle, the global orientation in the camera
frame of the dataset's image) then betas 10; row i belongs to sample i of the dataset's
``.npz``. SPIN's trainer (``train/trainer.py``) uses a fit as SMPL ground truth only where it
explains the sample's 2D keypoints in the augmented 224 px crop: the fit's 49 joints,
moved by the camera translation that best projects its 24 ground-truth joints onto the
keypoints (weighted least squares, focal 5000 px), must have a mean robust reprojection
error below ``smplify_threshold`` (100). Per joint the error is conf^2 * sum over x, y of
the Geman-McClure function (sigma 100 px) of projection - keypoint, with conf the
keypoint's confidence set to 0 for the OpenPose neck and hips and the ground-truth hips;
it is averaged over the 49 joints. Fits with a beta outside [-3, 3] keep their pose and
are given zero betas (after the test, as SPIN does). Samples whose ``.npz`` has SMPL
parameters (``has_smpl``) are supervised by those instead.
"""

from __future__ import annotations

import torch

from mocap_hmr.body import SPIN_JOINT_NAMES, BodyModel
from mocap_hmr.data.spin_dataset import DatasetError
from mocap_hmr.geometry.cameras import FOCAL_LENGTH, SPIN_IMG_RES
from mocap_hmr.losses import GT_JOINTS

SMPLIFY_THRESHOLD = 100.0  # SPIN's --smplify_threshold
GMOF_SIGMA = 100.0  # px
MAX_ABS_BETA = 3.0
IGNORED_JOINTS = tuple(SPIN_JOINT_NAMES.index(n) for n in ("OP Neck", "OP RHip", "OP LHip", "Right Hip", "Left Hip"))


def to_pixels(joints2d: torch.Tensor, img_res: int = SPIN_IMG_RES) -> torch.Tensor:
    """Normalized crop keypoints (B, J, 3) in [-1, 1] + confidence -> pixels of an
    ``img_res`` crop + confidence (B, J, 3)."""
    return torch.cat([img_res / 2 * (joints2d[..., :2] + 1), joints2d[..., 2:]], -1)


def estimate_translation(joints: torch.Tensor, keypoints: torch.Tensor, focal: float = FOCAL_LENGTH,
                         img_res: int = SPIN_IMG_RES) -> tuple[torch.Tensor, torch.Tensor]:
    """The camera translation (B, 3) that best projects joints (B, J, 3) onto keypoints
    (B, J, 3) in pixels + confidence: weighted linear least squares (weights sqrt(conf)),
    principal point at the crop centre. Also (B,) bool: whether the system is determined
    (two joints or more with conf > 0); undetermined rows hold zeros."""
    conf = keypoints[..., 2].clamp(min=0)
    uv = keypoints[..., :2] - img_res / 2
    x, y, z = joints.unbind(-1)
    ones, zeros = torch.ones_like(x), torch.zeros_like(x)
    # f tx - u tz = u z - f x  and  f ty - v tz = v z - f y
    rows = torch.cat([torch.stack([focal * ones, zeros, -uv[..., 0]], -1),
                      torch.stack([zeros, focal * ones, -uv[..., 1]], -1)], 1)  # (B, 2J, 3)
    rhs = torch.cat([uv[..., 0] * z - focal * x, uv[..., 1] * z - focal * y], 1)  # (B, 2J)
    w = torch.cat([conf, conf], 1).sqrt()
    a = (rows * w[..., None]).transpose(1, 2) @ (rows * w[..., None])
    b = ((rows * w[..., None]).transpose(1, 2) @ (rhs * w)[..., None])[..., 0]
    solvable = (conf > 0).sum(1) >= 2
    eye = torch.eye(3, dtype=a.dtype, device=a.device)
    a = torch.where(solvable[:, None, None], a, eye)
    return torch.linalg.solve(a, b) * solvable[:, None], solvable


def reprojection_error(joints: torch.Tensor, keypoints: torch.Tensor, focal: float = FOCAL_LENGTH,
                       img_res: int = SPIN_IMG_RES) -> torch.Tensor:
    """SPIN's fit error (B,): joints (B, 49, 3) of the fit, keypoints (B, 49, 3) in pixels
    of an ``img_res`` crop + confidence; inf where no translation can be estimated."""
    cam_t, solvable = estimate_translation(joints[:, GT_JOINTS], keypoints[:, GT_JOINTS], focal, img_res)
    points = joints + cam_t[:, None]
    projected = focal * points[..., :2] / points[..., 2:] + img_res / 2
    residual = projected - keypoints[..., :2]
    gmof = GMOF_SIGMA ** 2 * residual ** 2 / (GMOF_SIGMA ** 2 + residual ** 2)
    conf = keypoints[..., 2].clone()
    conf[:, list(IGNORED_JOINTS)] = 0
    error = (conf ** 2 * gmof.sum(-1)).mean(-1)
    return torch.where(solvable, error, torch.full_like(error, float("inf")))


class FitCheck:
    """Decides, batch by batch, which real samples have SMPL targets: those with ground
    truth, and those whose fit passes SPIN's test (module docstring)."""

    def __init__(self, body: BodyModel, threshold: float = SMPLIFY_THRESHOLD):
        if body.J_regressor_extra is None or not body.has_vertex_joints:
            raise DatasetError(f"{body.model_file}: checking SPIN's fits needs SPIN's 49 joints: put "
                               "J_regressor_extra.npy next to the body model")
        self.body, self.threshold = body, threshold

    @torch.no_grad()
    def targets(self, pose: torch.Tensor, betas: torch.Tensor, joints2d: torch.Tensor, has_smpl: torch.Tensor,
                has_fit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """pose (B, 24, 3), betas (B, 10): ground truth where ``has_smpl`` (B,) bool, else the
        fit where ``has_fit`` (B,) bool; joints2d (B, 49, 3) normalized crop keypoints ->
        (B,) bool: ground truth or a valid fit, and the betas to supervise with (B, 10)."""
        error = reprojection_error(self.body(pose, betas).spin_joints, to_pixels(joints2d))
        valid = has_smpl | (has_fit & (error < self.threshold))
        extreme = has_fit & ~has_smpl & (betas.abs() > MAX_ABS_BETA).any(-1)
        return valid, torch.where(extreme[:, None], torch.zeros_like(betas), betas)
