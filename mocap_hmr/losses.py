"""Losses: SPIN's (with its weights), for rendered and real batches alike.

SPIN (``train/trainer.py``): confidence-weighted MSE on 2D keypoints (OpenPose joints 0-24
weighted 0, ground-truth joints 25-48 weighted 1), MSE on 3D keypoints centred on the hips
(the mean of ground-truth joints 2 and 3), MSE on SMPL pose rotation matrices and betas
where SMPL parameters exist, the camera-scale regulariser mean(exp(-10 s)^2); weights
5, 5, 1, 0.001, vertices 0, plus the camera term, the sum times 60. Predicted 2D keypoints are the 3D joints
seen by SPIN's camera (``mocap_hmr.geometry.cameras.project_spin``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

GT_JOINTS = slice(25, 49)  # SPIN's 24 ground-truth joints among its 49
HIP_JOINTS = (2, 3)  # right and left hip within the 24 ground-truth joints


@dataclass
class SpinLossWeights:
    keypoints_2d: float = 5.0
    keypoints_3d: float = 5.0
    pose: float = 1.0
    betas: float = 0.001
    vertices: float = 0.0
    openpose_2d: float = 0.0  # weight of OpenPose joints 0-24 within the 2D term
    ground_truth_2d: float = 1.0  # weight of ground-truth joints 25-48 within the 2D term
    # not SPIN's: the weak-perspective camera against the crop's own where known (renderings).
    # In SPIN the 2D keypoint term supervises the camera; without it the camera drifts unchecked
    crop_camera: float = 0.0
    scale: float = 60.0


def keypoint_2d_loss(pred: torch.Tensor, gt: torch.Tensor, weights: SpinLossWeights) -> torch.Tensor:
    """pred (B, 49, 2), gt (B, 49, 3) with confidence -> scalar."""
    conf = gt[..., 2:].clone()
    conf[:, :25] *= weights.openpose_2d
    conf[:, 25:] *= weights.ground_truth_2d
    return (conf * (pred - gt[..., :2]) ** 2).mean()


def keypoint_3d_loss(pred: torch.Tensor, gt: torch.Tensor, has_3d: torch.Tensor) -> torch.Tensor:
    """pred (B, 24, 3) SPIN's ground-truth joints, gt (B, 24, 4) with confidence, has_3d (B,)
    bool -> scalar; both centred on the mean of the hips. Joints of confidence 0 (not
    annotated) add exactly 0, whatever their coordinates hold."""
    pred, gt = pred[has_3d], gt[has_3d]
    if len(gt) == 0:
        return pred.sum() * 0
    conf = gt[..., 3:]
    gt_centred = gt[..., :3] - gt[:, HIP_JOINTS, :3].mean(1, keepdim=True)
    pred_centred = pred - pred[:, HIP_JOINTS].mean(1, keepdim=True)
    squared = (pred_centred - gt_centred) ** 2
    return torch.where(conf > 0, conf * squared, torch.zeros_like(squared)).mean()


def smpl_loss(pred_rotmat, pred_betas, gt_rotmat, gt_betas, has_smpl) -> tuple[torch.Tensor, torch.Tensor]:
    """MSE on rotation matrices (B, 24, 3, 3) and betas (B, 10) where ``has_smpl``."""
    if not has_smpl.any():
        zero = pred_rotmat.sum() * 0
        return zero, zero
    pose = ((pred_rotmat[has_smpl] - gt_rotmat[has_smpl]) ** 2).mean()
    betas = ((pred_betas[has_smpl] - gt_betas[has_smpl]) ** 2).mean()
    return pose, betas


def camera_loss(camera: torch.Tensor) -> torch.Tensor:
    """SPIN's regulariser keeping the predicted scale positive: mean(exp(-10 s)^2)."""
    return (torch.exp(-10 * camera[:, 0]) ** 2).mean()


def crop_camera_loss(camera: torch.Tensor, crop_camera: torch.Tensor) -> torch.Tensor:
    """MSE of predicted weak-perspective cameras (B, 3) [s, tx, ty] against the crops' own
    (B, 3), over the samples that know theirs (scale > 0: real images carry zeros); 0 if none."""
    known = crop_camera[:, 0] > 0
    if not known.any():
        return camera.sum() * 0
    return ((camera[known] - crop_camera[known]) ** 2).mean()


# Feature alignment between paired real and rendered samples (the paper's Table 8); the
# paper's weights are 1e-3 (L2), 1e-3 (cosine) and 1e-2 (contrastive).
FEATURE_ALIGNMENT_WEIGHTS = {"l2": 1e-3, "cosine": 1e-3, "contrastive": 1e-2}


def feature_l2_loss(real: torch.Tensor, rendered: torch.Tensor) -> torch.Tensor:
    """Mean squared distance between paired features (B, D)."""
    return ((real - rendered) ** 2).sum(-1).mean()


def feature_cosine_loss(real: torch.Tensor, rendered: torch.Tensor) -> torch.Tensor:
    """Mean (1 - cosine similarity) between paired features (B, D)."""
    return (1 - torch.nn.functional.cosine_similarity(real, rendered, dim=-1)).mean()


def feature_contrastive_loss(real: torch.Tensor, rendered: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """Symmetric contrastive loss on l2-normalized features (B, D): each real sample must
    pick its own rendering among the batch's renderings (softmax over them), and each
    rendering its own real sample."""
    real = torch.nn.functional.normalize(real, dim=-1)
    rendered = torch.nn.functional.normalize(rendered, dim=-1)
    logits = real @ rendered.T / temperature
    target = torch.arange(len(real), device=real.device)
    return 0.5 * (torch.nn.functional.cross_entropy(logits, target)
                  + torch.nn.functional.cross_entropy(logits.T, target))


def acceleration_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error of the second time difference, pred/target (B, T, J, 3) joint sequences:
    mean over windows, frames and joints of |a_pred - a_target|^2, a[t] = x[t-1] - 2 x[t] + x[t+1]."""
    def second_difference(x: torch.Tensor) -> torch.Tensor:
        return x[:, :-2] - 2 * x[:, 1:-1] + x[:, 2:]

    return ((second_difference(pred) - second_difference(target)) ** 2).sum(-1).mean()

