"""Forward kinematics of SMPL's joints alone (no skinning): cheap enough for thousands of
poses per step, e.g. PoseBERT's joint loss."""

from __future__ import annotations

import torch

from mocap_hmr.body.joint_maps import SMPL_PARENTS


def forward_kinematics(rotmats: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
    """Posed joint positions (..., 24, 3) from local rotations (..., 24, 3, 3) and the rest
    joints (24, 3) of one body; the root stays at its rest position."""
    offsets = rest_joints - rest_joints[list(max(p, 0) for p in SMPL_PARENTS)]
    offsets[0] = rest_joints[0]
    world_rot = [rotmats[..., 0, :, :]]
    world_pos = [offsets[0].expand(*rotmats.shape[:-3], 3)]
    for j in range(1, 24):
        parent = SMPL_PARENTS[j]
        world_pos.append(world_pos[parent] + (world_rot[parent] @ offsets[j, :, None])[..., 0])
        world_rot.append(world_rot[parent] @ rotmats[..., j, :, :])
    return torch.stack(world_pos, dim=-2)
