"""Batched similarity Procrustes (Umeyama): the scale, rotation and translation that best map one
point set onto another in the least-squares sense.

For each sample, with ``X`` the prediction and ``Y`` the target (J points each), find ``s > 0``,
``R`` in SO(3) and ``t`` minimising ``sum_j |s R x_j + t - y_j|^2``. With centred points
``X0, Y0`` and the SVD ``X0^T Y0 = U diag(S) V^T`` (a (3, 3) matrix), the solution is
``R = V D U^T`` with ``D = diag(1, 1, sign(det(V U^T)))`` (the reflection fix: ``det R = +1``
always), ``s = tr(diag(S) D) / |X0|^2`` and ``t = mean(Y) - s R mean(X)``. This is the
transform SPIN's ``reconstruction_error`` uses for PA-MPJPE (prediction mapped onto the target).

Runs in the inputs' dtype (float32 or float64) on their device.
"""

from __future__ import annotations

import torch

from mocap_hmr.errors import InputShapeError

__all__ = ["procrustes_align", "similarity_transform"]


def _check_pair(pred: torch.Tensor, gt: torch.Tensor) -> None:
    """Both (N, J, 3), same shape."""
    if pred.dim() != 3 or pred.shape[-1] != 3 or pred.shape != gt.shape:
        raise InputShapeError(
            f"procrustes: pred has shape {tuple(pred.shape)} and gt {tuple(gt.shape)}; "
            "both must be (N, J, 3) with the same N and J"
        )


def similarity_transform(pred: torch.Tensor, gt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The similarity transform taking each ``pred`` sample onto the matching ``gt`` sample.

    pred, gt: (N, J, 3). Returns ``scale (N,)``, ``rotation (N, 3, 3)`` with ``det = +1`` and
    ``translation (N, 3)``, such that ``scale * pred @ rotation^T + translation`` (per sample)
    is the least-squares fit to ``gt``. A sample whose prediction is a single point gets scale 0.
    """
    _check_pair(pred, gt)
    mu_pred = pred.mean(dim=1, keepdim=True)  # (N, 1, 3)
    mu_gt = gt.mean(dim=1, keepdim=True)
    x0 = pred - mu_pred  # (N, J, 3)
    y0 = gt - mu_gt
    cross = x0.transpose(1, 2) @ y0  # (N, 3, 3), sum_j x_j y_j^T
    u, sing, vh = torch.linalg.svd(cross)
    v = vh.transpose(1, 2)
    d = torch.ones_like(sing)  # (N, 3)
    d[:, -1] = torch.sign(torch.linalg.det(v @ u.transpose(1, 2)))
    rotation = v @ torch.diag_embed(d) @ u.transpose(1, 2)  # (N, 3, 3)
    var_pred = (x0 * x0).sum(dim=(1, 2)).clamp_min(torch.finfo(pred.dtype).tiny)  # (N,)
    scale = (sing * d).sum(dim=1) / var_pred  # (N,)
    translation = mu_gt[:, 0] - scale[:, None] * (rotation @ mu_pred[:, 0, :, None])[..., 0]  # (N, 3)
    return scale, rotation, translation


def procrustes_align(pred: torch.Tensor, gt: torch.Tensor) -> torch.Tensor:
    """``pred`` (N, J, 3) mapped onto ``gt`` (N, J, 3) by its best similarity transform -> (N, J, 3).

    Per sample: scale, rotation (never a reflection) and translation, see ``similarity_transform``.
    """
    scale, rotation, translation = similarity_transform(pred, gt)
    return scale[:, None, None] * pred @ rotation.transpose(1, 2) + translation[:, None, :]
