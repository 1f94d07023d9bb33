"""The batch type every source of training crops yields: the renderer and the real-image
stream alike."""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch


@dataclass
class CropBatch:
    """A batch of training crops, rendered or real: both sources yield this type, so the
    training step never asks where a sample came from.

    images (B, 3, S, S) normalized; masks (B, 1, S, S) in {0, 1}; joints2d (B, 49, 3):
    normalized crop coordinates + visibility; joints3d (B, 49, 3) camera frame, metres;
    joints3d_conf (B, 49): each 3D joint's confidence (1 for renderings; 0 where a real
    dataset does not annotate the joint);
    pose (B, 24, 3) axis-angle with the root in the camera frame; betas (B, 10); camera
    (B, 3): SPIN's weak-perspective [s, tx, ty]; cam_t (B, 3): translation of the posed
    body (no transl) into the camera frame; focal, principal (B, 2): the crop's pinhole
    intrinsics in pixels; crop_kind (B,): FULL / TO_HIPS / TO_KNEES; has_smpl, has_3d (B,)
    bool: whether pose/betas and joints3d are known (always for renderings; real samples
    carry zeros in the fields they do not have).
    """

    images: torch.Tensor
    masks: torch.Tensor
    joints2d: torch.Tensor
    joints3d: torch.Tensor
    joints3d_conf: torch.Tensor
    pose: torch.Tensor
    betas: torch.Tensor
    camera: torch.Tensor
    cam_t: torch.Tensor
    focal: torch.Tensor
    principal: torch.Tensor
    crop_kind: torch.Tensor
    has_smpl: torch.Tensor
    has_3d: torch.Tensor

    def to(self, device) -> CropBatch:
        return CropBatch(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})
