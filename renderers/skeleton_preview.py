"""Stick-figure pictures of motion files: one row per sequence, one column per moment.

``save_motion_preview(motion_dir, out_png)`` picks a few AMASS-format ``.npz`` files under
``motion_dir`` (deterministically, spread over the kinds of motion their names tell), poses
a body model at evenly spaced frames of each, and draws the 24 SMPL joints as bones in a
three-quarter view: the subject's left limbs blue, right limbs orange, the trunk grey, far
bones paler; white background, a grey ground line under the lowest foot of the sequence.
Each panel is centred on the pelvis horizontally and keeps its height, so jumps and
sitting show.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import numpy as np
import torch

from mocap_hmr.body import SMPL_JOINT_NAMES, SMPL_PARENTS, BodyModel, rest_pelvis
from mocap_hmr.body.tiny_body import write_tiny_body
from mocap_hmr.data.amass import is_motion_candidate, load_amass_npz
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.geometry.frames import yup_translation
from mocap_hmr.imageio import write_png
from renderers.drawing import draw_discs

PANEL_HEIGHT, PANEL_WIDTH = 220, 150
PIXELS_PER_METRE = 85.0
GROUND_ROW = PANEL_HEIGHT - 18
VIEW_YAW = 0.9  # radians the first frame's facing direction is turned from the camera's right
BONE_RADIUS = 1.5
LEFT_COLOUR, RIGHT_COLOUR, TRUNK_COLOUR = (40, 90, 210), (235, 110, 20), (70, 70, 70)
GROUND_COLOUR, BORDER_COLOUR = (160, 160, 160), (225, 225, 225)
FOOT_JOINTS = [SMPL_JOINT_NAMES.index(name) for name in ("left_foot", "right_foot", "left_ankle", "right_ankle")]
HEAD = SMPL_JOINT_NAMES.index("head")


def _motion_kind(path: Path) -> str:
    """The kind of motion a file name tells: its stem without a trailing number."""
    return re.sub(r"[_\-]*\d+$", "", path.stem) or path.stem


def pick_sequences(files: list[Path], n_sequences: int) -> list[Path]:
    """``n_sequences`` of ``files``, spread over their kinds of motion: kinds sorted by name,
    evenly spaced picks among them (the first file of each), then round robin when more
    sequences than kinds are asked for."""
    kinds: dict[str, list[Path]] = {}
    for path in sorted(files):
        kinds.setdefault(_motion_kind(path), []).append(path)
    names = sorted(kinds)
    if n_sequences <= len(names):
        picks = np.linspace(0, len(names) - 1, n_sequences).round().astype(int)
        return [kinds[names[i]][0] for i in picks]
    chosen = []
    for depth in range(max(len(group) for group in kinds.values())):
        chosen += [kinds[name][depth] for name in names if depth < len(kinds[name])]
    return chosen[:n_sequences]


def _sequence_joints(body: BodyModel, path: Path, n_frames: int) -> tuple[np.ndarray, float]:
    """Joints (n_frames, 24, 3) at evenly spaced frames, in a view frame (x right, y up, z
    toward the camera) turned so that the first frame faces ``VIEW_YAW`` from the right;
    and the height of the sequence's lowest foot joint (metres)."""
    motion = load_amass_npz(path, fps=None)
    pose, trans, betas = (torch.from_numpy(motion[key]).double() for key in ("poses", "trans", "betas"))
    frames = np.linspace(0, len(pose) - 1, n_frames).round().astype(int)
    ground_frames = np.linspace(0, len(pose) - 1, min(len(pose), 64)).round().astype(int)
    every = np.concatenate([frames, ground_frames])
    betas = betas[: body.num_betas].float().expand(len(every), -1)
    trans = yup_translation(trans[every].float(), rest_pelvis(body, betas))
    with torch.no_grad():
        joints = body(pose[every].float(), betas, trans).joints.double()
    forward = axis_angle_to_matrix(pose[0, 0])[:, 2]
    yaw = float(torch.atan2(forward[0], forward[2]))
    view = axis_angle_to_matrix(torch.tensor([0.0, VIEW_YAW - yaw, 0.0], dtype=torch.float64))
    joints = (joints @ view.T).numpy()
    return joints[:n_frames], float(joints[n_frames:, FOOT_JOINTS, 1].min())


def _bone_colour(child: int) -> tuple[int, int, int]:
    name = SMPL_JOINT_NAMES[child]
    return LEFT_COLOUR if name.startswith("left") else RIGHT_COLOUR if name.startswith("right") else TRUNK_COLOUR


def _draw_skeleton(panel: np.ndarray, joints: np.ndarray, ground: float) -> None:
    """Draw one skeleton, joints (24, 3) in the view frame, far bones first and paler."""
    centre_x = joints[0, 0]
    px = np.stack([(joints[:, 0] - centre_x) * PIXELS_PER_METRE + PANEL_WIDTH / 2,
                   GROUND_ROW - (joints[:, 1] - ground) * PIXELS_PER_METRE], -1)
    depth = joints[:, 2]
    bones = sorted(range(1, 24), key=lambda j: depth[j] + depth[SMPL_PARENTS[j]])
    near, far = depth.max(), depth.min()
    for child in bones:
        parent = SMPL_PARENTS[child]
        farness = (near - (depth[child] + depth[parent]) / 2) / max(near - far, 1e-6)
        colour = np.array(_bone_colour(child), dtype=float)
        colour = np.round(colour + 0.45 * farness * (255 - colour)).astype(np.uint8)
        length = np.linalg.norm(px[child] - px[parent])
        s = np.linspace(0.0, 1.0, max(2, int(np.ceil(2 * length)) + 1))[:, None]
        draw_discs(panel, px[parent] + s * (px[child] - px[parent]), colour, BONE_RADIUS)
        draw_discs(panel, px[child][None], colour, BONE_RADIUS + 1.0)
    draw_discs(panel, px[HEAD][None] + np.array([[0.0, -0.08 * PIXELS_PER_METRE]]),
                     np.array(TRUNK_COLOUR, dtype=np.uint8), 0.09 * PIXELS_PER_METRE)


def _panel(joints: np.ndarray, ground: float) -> np.ndarray:
    """(PANEL_HEIGHT, PANEL_WIDTH, 3) uint8: ground line, skeleton, a light border."""
    panel = np.full((PANEL_HEIGHT, PANEL_WIDTH, 3), 255, dtype=np.uint8)
    panel[GROUND_ROW:GROUND_ROW + 2] = GROUND_COLOUR
    _draw_skeleton(panel, joints, ground)
    panel[:, -1] = BORDER_COLOUR
    panel[-1] = BORDER_COLOUR
    return panel


def render_motion_grid(body: BodyModel, files: list[Path], n_frames: int) -> np.ndarray:
    """(len(files) * PANEL_HEIGHT, n_frames * PANEL_WIDTH, 3) uint8: one row per file."""
    rows = []
    for path in files:
        joints, ground = _sequence_joints(body, path, n_frames)
        rows.append(np.concatenate([_panel(frame, ground) for frame in joints], axis=1))
    return np.concatenate(rows, axis=0)


def save_motion_preview(motion_dir: str | os.PathLike, out_png: str | os.PathLike, n_sequences: int = 4,
                        n_frames: int = 6, body_dir: str | os.PathLike | None = None) -> Path:
    """Draw ``n_sequences`` motions found under ``motion_dir`` (``.npz``, AMASS format) at
    ``n_frames`` moments each, with the body model in ``body_dir`` (default: the tiny
    procedural body, built in a temporary folder), and write the grid to ``out_png``."""
    motion_dir = Path(motion_dir)
    files = sorted(p for p in motion_dir.rglob("*.npz") if is_motion_candidate(p))
    if not files:
        raise MocapHMRError(f"{motion_dir}: no .npz motion files in it or below it")
    if n_sequences < 1 or n_frames < 1:
        raise MocapHMRError(f"save_motion_preview: n_sequences ({n_sequences}) and n_frames ({n_frames}) "
                            "must be >= 1")
    chosen = pick_sequences(files, n_sequences)
    if body_dir is not None:
        image = render_motion_grid(BodyModel(body_dir), chosen, n_frames)
    else:
        with tempfile.TemporaryDirectory(prefix="mocap_hmr_tiny_body.") as tmp:
            image = render_motion_grid(BodyModel(write_tiny_body(Path(tmp) / "tiny")), chosen, n_frames)
    return write_png(out_png, image)
