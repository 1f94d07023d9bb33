"""Forward kinematics of SMPL's joints alone (no skinning), and vertex-regressed joints
(H36M's) without building the mesh: cheap enough for thousands of poses per step, e.g.
PoseBERT's joint loss and its keypoint inputs."""

from __future__ import annotations

import torch

from mocap_hmr.body.joint_maps import SMPL_PARENTS


def _chain(rotmats: torch.Tensor, rest_joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """World rotations (..., 24, 3, 3) and positions (..., 24, 3) of the joints."""
    offsets = rest_joints - rest_joints[list(max(p, 0) for p in SMPL_PARENTS)]
    offsets[0] = rest_joints[0]
    world_rot = [rotmats[..., 0, :, :]]
    world_pos = [offsets[0].expand(*rotmats.shape[:-3], 3)]
    for j in range(1, 24):
        parent = SMPL_PARENTS[j]
        world_pos.append(world_pos[parent] + (world_rot[parent] @ offsets[j, :, None])[..., 0])
        world_rot.append(world_rot[parent] @ rotmats[..., j, :, :])
    return torch.stack(world_rot, dim=-3), torch.stack(world_pos, dim=-2)


def forward_kinematics(rotmats: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
    """Posed joint positions (..., 24, 3) from local rotations (..., 24, 3, 3) and the rest
    joints (24, 3) of one body; the root stays at its rest position."""
    return _chain(rotmats, rest_joints)[1]


def regressor_anchors(regressor: torch.Tensor, weights: torch.Tensor, vertices: torch.Tensor,
                      rest_joints: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """What a vertex joint regressor (J, V) sees of each bone, so that posed regressed joints
    need no mesh: with skinning weights (V, 24), rest vertices (V, 3) and rest joints (24, 3),
    ``offsets (J, 24, 3)`` = sum_v r_jv w_vk (v - rest_k) and ``shares (J, 24)`` = sum_v r_jv w_vk."""
    shares = regressor @ weights
    offsets = torch.einsum("jv,vk,vkc->jkc", regressor, weights, vertices[:, None, :] - rest_joints[None])
    return offsets, shares


def regressed_joints(rotmats: torch.Tensor, rest_joints: torch.Tensor,
                     anchors: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """The regressor's joints (..., J, 3) on the linear-blend-skinned mesh posed by local
    rotations (..., 24, 3, 3), from ``regressor_anchors`` instead of the mesh: exact for a
    body without pose correctives (the stand-in; SMPL's ``posedirs`` move them by about 1 cm)."""
    offsets, shares = anchors
    world_rot, world_pos = _chain(rotmats, rest_joints)
    return torch.einsum("...kab,jkb->...ja", world_rot, offsets) + torch.einsum("jk,...kc->...jc", shares, world_pos)


def turn_root(rotmat: torch.Tensor, view: torch.Tensor) -> torch.Tensor:
    """Sequences rotmat (B, T, 24, 3, 3) seen from ``view`` (B, 3, 3): every frame's root
    rotation premultiplied by it (the body turns about its root joint)."""
    return torch.cat([view[:, None, None] @ rotmat[:, :, :1], rotmat[:, :, 1:]], 2)
