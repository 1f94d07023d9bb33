"""How far poses are from a corpus of poses: per joint, the geodesic angle between two
rotations, averaged over the body joints and minimised over the corpus (the nearest neighbour).

The geodesic angle between rotations A and B is ``arccos((trace(A^T B) - 1) / 2)``, and
``trace(A^T B)`` is the dot product of the two flattened 3x3 matrices: for one joint, the
traces of every (pose, corpus frame) pair are one matrix product, (N, 9) @ (9, M).
"""

from __future__ import annotations

import torch

BODY_JOINTS = tuple(range(1, 24))  # SMPL's joints without the root: its orientation is the camera's business
CHUNK = 64  # poses per block: a block holds (CHUNK, M, joints) angles


def angle_of_trace(trace: torch.Tensor) -> torch.Tensor:
    """The rotation angle (radians, in [0, pi]) of a rotation whose trace is ``trace`` (the trace
    of A^T B for the angle between A and B), clamped against rounding past [-1, 3]."""
    return torch.arccos(((trace - 1) / 2).clamp(-1.0, 1.0))


def geodesic_angles(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Angles (radians, in [0, pi]) between rotations a (..., 3, 3) and b (..., 3, 3), broadcast."""
    return angle_of_trace((a * b).sum(dim=(-2, -1)))


def nearest_pose_distance(poses: torch.Tensor, corpus: torch.Tensor, joints: tuple[int, ...] = BODY_JOINTS,
                          chunk: int = CHUNK, dtype: torch.dtype = torch.float32
                          ) -> tuple[torch.Tensor, torch.Tensor]:
    """For each pose, the corpus frame nearest to it and how far it is.

    poses (N, J, 3, 3), corpus (M, J, 3, 3) rotation matrices (J >= max(joints) + 1, e.g. SMPL's
    24). The distance between two poses is the mean over ``joints`` of the geodesic angle between
    their rotations of that joint (radians). Returns distance (N,) radians and nearest (N,) long,
    the index of the nearest corpus frame (the first one on ties), on ``poses``'s device.
    Computed in ``dtype``, ``chunk`` poses at a time."""
    if poses.shape[-2:] != (3, 3) or corpus.shape[-2:] != (3, 3) or poses.ndim != 4 or corpus.ndim != 4:
        raise ValueError(f"poses and corpus must be (N, J, 3, 3) and (M, J, 3, 3), got {tuple(poses.shape)} "
                         f"and {tuple(corpus.shape)}")
    if len(corpus) == 0:
        raise ValueError("nearest_pose_distance: the corpus is empty")
    idx = list(joints)
    # (J', 9, M): per joint, the corpus's flattened matrices as columns
    theirs = corpus[:, idx].to(poses.device, dtype).flatten(-2).permute(1, 2, 0)
    distances, nearest = [], []
    for first in range(0, len(poses), chunk):
        ours = poses[first:first + chunk, idx].to(dtype).flatten(-2).transpose(0, 1)  # (J', n, 9)
        trace = ours @ theirs  # (J', n, M)
        angle = angle_of_trace(trace).mean(dim=0)  # (n, M)
        best, where = angle.min(dim=1)
        distances.append(best)
        nearest.append(where)
    if not distances:
        return poses.new_zeros(0, dtype=dtype), torch.zeros(0, dtype=torch.long, device=poses.device)
    return torch.cat(distances), torch.cat(nearest)
