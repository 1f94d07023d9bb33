"""The tiny procedural body: a few hundred vertices in SMPL's file format, for unit tests.

Same kinematic tree (SMPL's 24 joints), same frame (Y up, facing +Z, the subject's left at
+X), a T-pose rest shape with identity rest frames, 10 shape directions (the first one
makes the body taller, linearly), skinning weights, a joint regressor, UVs, one texture
and vertex ids for SPIN's extra joints. Each bone is a tube of rings; the ring that starts
at a joint is centred on it, and that ring's mean is the joint's regressor row.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mocap_hmr.body.body_folder import write_body_folder
from mocap_hmr.body.joint_maps import SMPL_JOINT_NAMES, SMPL_PARENTS

# Offset of each joint from its parent in the T-pose (metres); the pelvis is at the origin.
_OFFSETS = {
    "left_hip": (0.06, -0.09, 0.0), "right_hip": (-0.06, -0.09, 0.0),
    "spine1": (0.0, 0.11, -0.01), "left_knee": (0.04, -0.38, 0.0),
    "right_knee": (-0.04, -0.38, 0.0), "spine2": (0.0, 0.13, 0.01),
    "left_ankle": (-0.01, -0.40, -0.04), "right_ankle": (0.01, -0.40, -0.04),
    "spine3": (0.0, 0.05, 0.0), "left_foot": (0.02, -0.05, 0.12),
    "right_foot": (-0.02, -0.05, 0.12), "neck": (0.0, 0.21, -0.03),
    "left_collar": (0.07, 0.11, -0.01), "right_collar": (-0.07, 0.11, -0.01),
    "head": (0.0, 0.09, 0.05), "left_shoulder": (0.12, 0.04, -0.01),
    "right_shoulder": (-0.12, 0.04, -0.01), "left_elbow": (0.26, 0.0, 0.0),
    "right_elbow": (-0.26, 0.0, 0.0), "left_wrist": (0.25, 0.0, 0.0),
    "right_wrist": (-0.25, 0.0, 0.0), "left_hand": (0.08, 0.0, 0.0),
    "right_hand": (-0.08, 0.0, 0.0),
}
# Tube radius of the bone that ends at each joint (metres).
_RADII = {
    "left_hip": 0.09, "right_hip": 0.09, "spine1": 0.12, "left_knee": 0.07, "right_knee": 0.07,
    "spine2": 0.13, "left_ankle": 0.05, "right_ankle": 0.05, "spine3": 0.14, "left_foot": 0.04,
    "right_foot": 0.04, "neck": 0.06, "left_collar": 0.06, "right_collar": 0.06, "head": 0.05,
    "left_shoulder": 0.05, "right_shoulder": 0.05, "left_elbow": 0.045, "right_elbow": 0.045,
    "left_wrist": 0.035, "right_wrist": 0.035, "left_hand": 0.03, "right_hand": 0.03,
}
# Leaf joints get a closed end tube: (direction, length, radius).
_TIPS = {
    "head": ((0.0, 1.0, 0.0), 0.2, 0.09), "left_hand": ((1.0, 0.0, 0.0), 0.08, 0.03),
    "right_hand": ((-1.0, 0.0, 0.0), 0.08, 0.03), "left_foot": ((0.0, 0.0, 1.0), 0.07, 0.035),
    "right_foot": ((0.0, 0.0, 1.0), 0.07, 0.035),
}
RING_SIZE = 8
RING_FRACTIONS = (0.0, 0.5, 1.0)


def tiny_rest_joints() -> np.ndarray:
    """(24, 3) T-pose joint positions."""
    joints = np.zeros((24, 3))
    for i in range(1, 24):
        joints[i] = joints[SMPL_PARENTS[i]] + _OFFSETS[SMPL_JOINT_NAMES[i]]
    return joints


def _ring(center: np.ndarray, direction: np.ndarray, radius: float) -> np.ndarray:
    """(RING_SIZE, 3) points on a circle around ``center``, perpendicular to ``direction``,
    counter-clockwise about it, the first one on u = normalize(direction x ref)."""
    d = direction / np.linalg.norm(direction)
    ref = np.array([0.0, 0.0, 1.0]) if abs(d[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = np.cross(d, ref)
    u /= np.linalg.norm(u)
    w = np.cross(d, u)
    angles = np.arange(RING_SIZE) * 2 * np.pi / RING_SIZE
    return center + radius * (np.cos(angles)[:, None] * u + np.sin(angles)[:, None] * w)


def _segments(joints: np.ndarray) -> list[tuple[int, int | None, np.ndarray, np.ndarray, float]]:
    """(owner joint, joint blended in at the end or None, start, end, radius) per tube."""
    segments = []
    for child in range(1, 24):
        name = SMPL_JOINT_NAMES[child]
        segments.append((SMPL_PARENTS[child], child, joints[SMPL_PARENTS[child]], joints[child],
                         _RADII[name]))
    for name, (direction, length, radius) in _TIPS.items():
        j = SMPL_JOINT_NAMES.index(name)
        segments.append((j, None, joints[j], joints[j] + length * np.asarray(direction), radius))
    return segments


def build_tiny_body() -> tuple[dict, np.ndarray, np.ndarray]:
    """The tiny body's arrays in SMPL's format, plus its head-top and jaw vertex groups."""
    joints = tiny_rest_joints()
    segments = _segments(joints)
    verts, weights, uvs, v_coords, faces = [], [], [], [], []
    tips = []  # (owner, segment index, end point, last ring): closed after all rings
    ring_starts = {}  # joint -> vertex ids of the first ring of a tube starting there
    n_seg = len(segments)
    for s, (owner, blend, start, end, radius) in enumerate(segments):
        rings = []
        for t in RING_FRACTIONS:
            ids = np.arange(len(verts), len(verts) + RING_SIZE)
            verts.extend(_ring(start + t * (end - start), end - start, radius))
            w = np.zeros(24)
            if blend is not None and t == 1.0:
                w[owner] = w[blend] = 0.5
            else:
                w[owner] = 1.0
            weights.extend([w] * RING_SIZE)
            uvs.extend((s + np.arange(RING_SIZE) / RING_SIZE) / n_seg)
            v_coords.extend([t] * RING_SIZE)
            rings.append(ids)
        ring_starts.setdefault(owner, rings[0])
        for a, b in zip(rings[:-1], rings[1:], strict=True):
            for i in range(RING_SIZE):
                j = (i + 1) % RING_SIZE
                faces += [(a[i], a[j], b[i]), (a[j], b[j], b[i])]
        if blend is None:
            tips.append((owner, s, end, rings))
    for owner, s, end, rings in tips:  # close each tip with a fan around a centre vertex
        centre = len(verts)
        verts.append(end)
        w = np.zeros(24)
        w[owner] = 1.0
        weights.append(w)
        uvs.append((s + 0.5) / n_seg)
        v_coords.append(1.0)
        faces += [(centre, rings[-1][i], rings[-1][(i + 1) % RING_SIZE]) for i in range(RING_SIZE)]
        ring_starts[("tip", owner)] = np.array([centre])
        ring_starts[("tip_ring", owner)] = rings[-1]
        ring_starts[("mid_ring", owner)] = rings[1]
    verts = np.asarray(verts)
    n_verts = len(verts)
    regressor = np.zeros((24, n_verts))
    for j in range(24):
        regressor[j, ring_starts[j]] = 1.0 / RING_SIZE
    head, lfoot, rfoot = (SMPL_JOINT_NAMES.index(n) for n in ("head", "left_foot", "right_foot"))
    head_mid = ring_starts[("mid_ring", head)]
    head_base = ring_starts[head]

    def extreme(ids, axis, sign=1.0):
        return int(ids[np.argmax(sign * verts[ids, axis])])

    def eye(side):  # front ring vertex nearest to 45 degrees towards that side
        front = verts[head_mid, 2] > 0
        candidates = head_mid[front]
        return int(candidates[np.argmax(side * verts[candidates, 0])])

    ankle_ring = {side: ring_starts[SMPL_JOINT_NAMES.index(f"{side}_ankle")]
                  for side in ("left", "right")}
    vertex_ids = {
        "nose": extreme(head_mid, 2), "reye": eye(-1.0), "leye": eye(1.0),
        "rear": extreme(head_mid, 0, -1.0), "lear": extreme(head_mid, 0),
        "LBigToe": int(ring_starts[("tip", lfoot)][0]),
        "LSmallToe": extreme(ring_starts[("tip_ring", lfoot)], 0),
        "LHeel": extreme(ankle_ring["left"], 2, -1.0),
        "RBigToe": int(ring_starts[("tip", rfoot)][0]),
        "RSmallToe": extreme(ring_starts[("tip_ring", rfoot)], 0, -1.0),
        "RHeel": extreme(ankle_ring["right"], 2, -1.0),
    }
    model = {
        "v_template": verts,
        "f": np.asarray(faces, dtype=np.uint32),
        "J_regressor": regressor,
        "J": joints,
        "kintree_table": np.stack([np.asarray(SMPL_PARENTS), np.arange(24)]).astype(np.int64),
        "weights": np.asarray(weights),
        "shapedirs": _shape_directions(verts),
        "posedirs": np.zeros((n_verts, 3, 207)),
        "vt": np.stack([np.asarray(uvs), np.asarray(v_coords)], axis=1),
        "ft": np.asarray(faces, dtype=np.int64),
        "vertex_ids": vertex_ids,
    }
    jaw = head_base[verts[head_base, 2] > 0]
    return model, ring_starts[("tip", head)], jaw


def _shape_directions(verts: np.ndarray) -> np.ndarray:
    """(V, 3, 10): height, girth, leg length, arm span, then small smooth random fields."""
    dirs = np.zeros((len(verts), 3, 10))
    y_min = verts[:, 1].min()
    dirs[:, 1, 0] = 0.04 * (verts[:, 1] - y_min)  # +1 beta: 4% taller
    # girth: away from the centre of each vertex's ring (rings come first, tip centres last)
    n_ring_verts = len(verts) // RING_SIZE * RING_SIZE
    ring_centres = verts[:n_ring_verts].reshape(-1, RING_SIZE, 3).mean(1)
    dirs[:n_ring_verts, :, 1] = 0.08 * (verts[:n_ring_verts] - ring_centres.repeat(RING_SIZE, 0))
    below = verts[:, 1] < 0
    dirs[below, 1, 2] = 0.05 * verts[below, 1]
    outside = np.abs(verts[:, 0]) > 0.2
    dirs[outside, 0, 3] = 0.04 * (verts[outside, 0] - np.sign(verts[outside, 0]) * 0.2)
    rng = np.random.default_rng(0)
    for k in range(4, 10):
        freq, phase = rng.normal(size=(3, 3)) * 3, rng.uniform(0, 2 * np.pi, 3)
        dirs[:, :, k] = 0.01 * np.sin(verts @ freq + phase)
    return dirs


def tiny_texture(size: int = 64) -> np.ndarray:
    """A deterministic skin-toned (size, size, 3) uint8 texture with a little mottling."""
    rng = np.random.default_rng(0)
    base = np.array([224, 172, 140], dtype=np.float64)
    noise = rng.normal(scale=8.0, size=(size, size, 1))
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def write_tiny_body(out_dir: str | Path) -> Path:
    """Build the tiny body and write it as a body folder (``out_dir/SMPL_NEUTRAL.pkl`` ...)."""
    model, head_top, jaw = build_tiny_body()
    return write_body_folder(out_dir, model, head_top, jaw, [tiny_texture()])
