"""Stick-figure pictures of motion files: one row per sequence, one column per moment.

``save_motion_preview(motion_dir, out_png)`` picks a few AMASS-format ``.npz`` files under
``motion_dir`` (deterministically, spread over the kinds of motion their names tell), poses
a body model at evenly spaced frames of each, and draws the 24 SMPL joints as bones in a
three-quarter view: the subject's left limbs blue, right limbs orange, the trunk grey, far
bones paler; white background, a grey ground line under the lowest foot of the sequence,
the kind of motion (the file name without its number) in the row's first panel. Each panel
is centred on the pelvis horizontally and keeps its height, so jumps and sitting show.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from mocap_hmr.body import SMPL_JOINT_NAMES, SMPL_PARENTS, BodyModel, rest_pelvis
from mocap_hmr.body.tiny_body import write_tiny_body
from mocap_hmr.data.amass import is_motion_candidate, load_amass_npz
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.geometry.frames import yup_translation
from mocap_hmr.vis.figure import pixel_figure, save_png, styled

PANEL_HEIGHT, PANEL_WIDTH = 220, 150
PIXELS_PER_METRE = 85.0
GROUND_ROW = PANEL_HEIGHT - 18
VIEW_YAW = 0.9  # radians the first frame's facing direction is turned from the camera's right
BONE_WIDTH = 2.0  # points
LEFT_COLOUR, RIGHT_COLOUR, TRUNK_COLOUR = "#285ad2", "#eb6e14", "#464646"
GROUND_COLOUR, BORDER_COLOUR = "#a0a0a0", "#e1e1e1"
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


def _bone_colour(child: int) -> str:
    name = SMPL_JOINT_NAMES[child]
    return LEFT_COLOUR if name.startswith("left") else RIGHT_COLOUR if name.startswith("right") else TRUNK_COLOUR


def _draw_skeleton(ax, joints: np.ndarray) -> None:
    """Draw one skeleton on ``ax`` (metres), joints (24, 3) in the view frame (x right, y up,
    z toward the camera): bones far bones first and paler, a disc for the head."""
    depth = joints[:, 2]
    near, far = depth.max(), depth.min()
    for child in sorted(range(1, 24), key=lambda j: depth[j] + depth[SMPL_PARENTS[j]]):
        parent = SMPL_PARENTS[child]
        farness = (near - (depth[child] + depth[parent]) / 2) / max(near - far, 1e-6)
        colour = to_rgb(_bone_colour(child))
        colour = tuple(c + 0.45 * farness * (1 - c) for c in colour)
        ax.plot(joints[[parent, child], 0], joints[[parent, child], 1], color=colour, linewidth=BONE_WIDTH,
                solid_capstyle="round", marker="o", markersize=2.2, markevery=[1])
    ax.add_patch(Circle((joints[HEAD, 0], joints[HEAD, 1] + 0.08), 0.09, color=TRUNK_COLOUR, linewidth=0))


@styled
def motion_grid(sequences: Sequence[tuple[str, np.ndarray, float]]) -> Figure:
    """One row per (label, joints (F, 24, 3) in the view frame, ground height) and one panel of
    PANEL_WIDTH x PANEL_HEIGHT pixels per frame: the skeleton centred on the pelvis horizontally,
    at its height over a ground line at the sequence's lowest foot; the label in the first panel."""
    frames = max(len(joints) for _, joints, _ in sequences)
    fig = pixel_figure(frames * PANEL_WIDTH, len(sequences) * PANEL_HEIGHT)
    half_width, below = PANEL_WIDTH / 2 / PIXELS_PER_METRE, (PANEL_HEIGHT - GROUND_ROW) / PIXELS_PER_METRE
    for r, (label, joints, ground) in enumerate(sequences):
        for c, frame in enumerate(joints):
            ax = fig.add_axes((c / frames, 1 - (r + 1) / len(sequences), 1 / frames, 1 / len(sequences)))
            x0, y0 = frame[0, 0] - half_width, ground - below
            ax.set_xlim(x0, x0 + 2 * half_width)
            ax.set_ylim(y0, y0 + PANEL_HEIGHT / PIXELS_PER_METRE)
            ax.set_axis_off()
            ax.axhline(ground, color=GROUND_COLOUR, linewidth=1.2)
            _draw_skeleton(ax, frame)
            ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor=BORDER_COLOUR,
                                   linewidth=0.8))
            if c == 0:
                ax.text(0.04, 0.97, label, transform=ax.transAxes, ha="left", va="top", fontsize=7, color="0.35")
    return fig


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
    with tempfile.TemporaryDirectory(prefix="mocap_hmr_tiny_body.") as tmp:
        body = BodyModel(body_dir if body_dir is not None else write_tiny_body(Path(tmp) / "tiny"))
        sequences = [(_motion_kind(path), *_sequence_joints(body, path, n_frames)) for path in chosen]
    return save_png(motion_grid(sequences), out_png)
