"""BVH (Biovision hierarchy) files of SMPL motion, for Blender, MotionBuilder, game engines.

The hierarchy is SMPL's 24 joints with their names, rooted at the pelvis; each joint's
OFFSET is its rest position minus its parent's, from the body model in use (real SMPL or the
stand-in) with the motion's betas. Leaf joints (head, feet, hands) end in an End Site half
their own bone's length further along it (the head: straight up). SMPL's rest frames are the
identity, so a BVH joint's rotation is SMPL's local rotation itself: channels ``Zrotation
Yrotation Xrotation`` in degrees (R = Rz Ry Rx, intrinsic Z-Y-X Euler angles from scipy),
the root also ``Xposition Yposition Zposition``: the rest pelvis plus the translation.
Lengths are in centimetres (the unit BVH readers assume; Blender's importer scales by 0.01),
SMPL's Y up and +Z facing are kept, ``Frame Time`` is 1 / fps.

The text format is short and fixed, so it is written here directly; the tests read the files
back with ``bvhio``, a BVH reader this project did not write.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from mocap_hmr.atomic import atomic_path
from mocap_hmr.body import SMPL_JOINT_NAMES, SMPL_PARENTS, BodyModel
from mocap_hmr.export.motion import Motion, rest_skeleton

CENTIMETRES = 100.0
HEAD = SMPL_JOINT_NAMES.index("head")


def write_bvh(path: str | os.PathLike, motion: Motion, body: BodyModel) -> Path:
    """Write ``motion`` as a BVH file at ``path`` (atomically); returns the path."""
    rest = rest_skeleton(body, motion.betas).double().numpy() * CENTIMETRES  # (24, 3)
    children = {j: [c for c in range(24) if SMPL_PARENTS[c] == j] for j in range(24)}
    lines = ["HIERARCHY"]

    def joint(j: int, depth: int) -> None:
        pad = "  " * depth
        offset = rest[j] - (rest[SMPL_PARENTS[j]] if j else 0.0)
        if j == 0:
            lines.append(f"ROOT {SMPL_JOINT_NAMES[j]}")
            channels = "CHANNELS 6 Xposition Yposition Zposition Zrotation Yrotation Xrotation"
        else:
            lines.append(f"{pad}JOINT {SMPL_JOINT_NAMES[j]}")
            channels = "CHANNELS 3 Zrotation Yrotation Xrotation"
        lines.extend([f"{pad}{{", f"{pad}  OFFSET {_numbers(offset)}", f"{pad}  {channels}"])
        for child in children[j]:
            joint(child, depth + 1)
        if not children[j]:
            tip = np.array([0.0, 0.5 * np.linalg.norm(offset), 0.0]) if j == HEAD else 0.5 * offset
            lines.extend([f"{pad}  End Site", f"{pad}  {{", f"{pad}    OFFSET {_numbers(tip)}", f"{pad}  }}"])
        lines.append(f"{pad}}}")

    joint(0, 0)
    order = _depth_first(children)
    rotations = motion.rotations.double().numpy()  # (N, 24, 3, 3)
    n = rotations.shape[0]
    euler = Rotation.from_matrix(rotations[:, order].reshape(-1, 3, 3)).as_euler("ZYX", degrees=True)
    root = rest[0] + motion.transl.double().numpy() * CENTIMETRES  # (N, 3)
    values = np.concatenate([root, euler.reshape(n, -1)], 1)
    lines += ["MOTION", f"Frames: {n}", f"Frame Time: {1.0 / motion.fps:.8f}"]
    lines += [_numbers(row) for row in values]
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return path


def _depth_first(children: dict[int, list[int]]) -> list[int]:
    """Joints in the order their channels appear in a frame: the hierarchy's, depth first."""
    order, stack = [], [0]
    while stack:
        j = stack.pop()
        order.append(j)
        stack += reversed(children[j])
    return order


def _numbers(values) -> str:
    return " ".join(f"{v:.6f}" for v in np.asarray(values).reshape(-1))
