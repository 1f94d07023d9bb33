"""HMR as SPIN has it: a ResNet backbone and an iterative regressor of SMPL pose (6D),
shape and weak-perspective camera, with SPIN's parameter names, so SPIN's released
``model_checkpoint.pt`` (``{'model': state_dict}``) loads with ``strict=True``.

The regressor (SPIN's ``models/hmr.py``): features ++ current pose (144) ++ shape (10) ++
camera (3) -> fc1 -> dropout -> fc2 -> dropout -> additive updates from decpose, decshape,
deccam; 3 iterations from the mean parameters ``init_pose/init_shape/init_cam``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import rot6d_to_matrix
from mocap_hmr.models.checkpoints import load_weights, read_checkpoint, state_dict_of
from mocap_hmr.models.resnet import ResNet

NPOSE = 24 * 6
MEAN_CAM = (0.9, 0.0, 0.0)  # SPIN's mean camera: scale 0.9, centred


@dataclass
class HMROutput:
    """rotmat (B, 24, 3, 3); pose6d (B, 144); betas (B, 10); camera (B, 3) [s, tx, ty];
    features (B, D) the pooled backbone features."""

    rotmat: torch.Tensor
    pose6d: torch.Tensor
    betas: torch.Tensor
    camera: torch.Tensor
    features: torch.Tensor


def identity_mean_pose() -> torch.Tensor:
    """(144,) the 6D of 24 identity rotations."""
    return torch.eye(3)[:, :2].reshape(6).repeat(24)


def load_mean_params(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """SPIN's ``smpl_mean_params.npz``: pose (144,) 6D, shape (10,), cam (3,)."""
    try:
        with np.load(path) as npz:
            return {key: torch.from_numpy(np.asarray(npz[key], dtype=np.float32)).reshape(-1)
                    for key in ("pose", "shape", "cam")}
    except KeyError as exc:
        raise MocapHMRError(f"{path}: SPIN's smpl_mean_params.npz has pose, shape and cam; {exc} is missing") from exc
    except (OSError, ValueError) as exc:
        raise MocapHMRError(f"{path}: cannot be read as SPIN's smpl_mean_params.npz ({exc})") from exc


class HMR(ResNet):
    """images (B, 3, H, W) normalized like SPIN's crops -> ``HMROutput``.

    backbone: resnet50 (SPIN's), resnet18 or tiny; mean_pose (144,) 6D, mean_shape (10,),
    mean_cam (3,): the regressor's starting point (default: identity pose, zero shape,
    SPIN's mean camera; SPIN's file via ``load_mean_params``)."""

    def __init__(self, backbone: str = "resnet50", mean_pose: torch.Tensor | None = None,
                 mean_shape: torch.Tensor | None = None, mean_cam: torch.Tensor | None = None, iterations: int = 3):
        super().__init__(backbone)
        self.backbone_name, self.iterations = backbone, iterations
        self.fc1 = nn.Linear(self.feature_dim + NPOSE + 13, 1024)
        self.drop1 = nn.Dropout()
        self.fc2 = nn.Linear(1024, 1024)
        self.drop2 = nn.Dropout()
        self.decpose = nn.Linear(1024, NPOSE)
        self.decshape = nn.Linear(1024, 10)
        self.deccam = nn.Linear(1024, 3)
        for layer in (self.decpose, self.decshape, self.deccam):
            nn.init.xavier_uniform_(layer.weight, gain=0.01)
        self.register_buffer("init_pose", (identity_mean_pose() if mean_pose is None else mean_pose).reshape(1, NPOSE))
        self.register_buffer("init_shape", (torch.zeros(10) if mean_shape is None else mean_shape).reshape(1, 10))
        self.register_buffer("init_cam", (torch.tensor(MEAN_CAM) if mean_cam is None else mean_cam).reshape(1, 3))

    def regressor_modules(self) -> list[nn.Module]:
        return [self.fc1, self.fc2, self.decpose, self.decshape, self.deccam]

    def predict_prior(self) -> HMR:
        """Zero the regressor's output layers (in place; returns the model): every image then
        gets the prior ``init_pose``, ``init_shape``, ``init_cam``, the "mean pose" baseline."""
        with torch.no_grad():
            for layer in (self.decpose, self.decshape, self.deccam):
                layer.weight.zero_()
                layer.bias.zero_()
        return self

    def forward(self, images: torch.Tensor) -> HMROutput:
        features = super().forward(images)
        batch = images.shape[0]
        pose = self.init_pose.expand(batch, -1)
        shape = self.init_shape.expand(batch, -1)
        cam = self.init_cam.expand(batch, -1)
        for _ in range(self.iterations):
            x = self.drop2(self.fc2(self.drop1(self.fc1(torch.cat([features, pose, shape, cam], 1)))))
            pose, shape, cam = self.decpose(x) + pose, self.decshape(x) + shape, self.deccam(x) + cam
        rotmat = rot6d_to_matrix(pose.reshape(batch, 24, 6))
        return HMROutput(rotmat=rotmat, pose6d=pose, betas=shape, camera=cam, features=features)


def build_hmr(cfg, device: str | torch.device = "cpu") -> HMR:
    """HMR from a ``mocap_spin`` configuration section: its backbone, mean parameters
    (``mean_params``) and starting checkpoint (``checkpoint``), on ``device``."""
    means = load_mean_params(cfg.mean_params) if cfg.mean_params else {}
    model = HMR(cfg.backbone, mean_pose=means.get("pose"), mean_shape=means.get("shape"), mean_cam=means.get("cam"))
    if cfg.checkpoint:
        load_weights(model, state_dict_of(read_checkpoint(cfg.checkpoint), cfg.checkpoint), cfg.checkpoint)
    return model.to(device)
