"""AIST++ (Li et al., ICCV 2021): SMPL fits of multi-view dance videos, 60 fps, as image sets
of the chosen views.

The annotation folder (https://google.github.io/aistplusplus_dataset) holds, per sequence
(a name with ``cAll`` where its videos' names hold the view, ``gBR_sBM_cAll_d04_mBR0_ch01`` ->
``gBR_sBM_c01_d04_mBR0_ch01.mp4``): ``motions/<seq>.pkl`` (``smpl_poses`` (F, 72),
``smpl_trans``, ``smpl_scaling``, ``smpl_loss``), ``keypoints2d/<seq>.pkl`` (``keypoints2d``
(9, F, 17, 3) COCO keypoints per view in c01..c09 order, ``det_scores``, ``timestamps``), and
``cameras/mapping.txt`` (``<seq> <setting>`` lines) with ``cameras/<setting>.json`` (per view:
``name``, ``size``, ``matrix``, ``distortions``, ``rotation`` (Rodrigues vector, world to
camera), ``translation``).

One sample per view and frame: the pose with its global orientation turned into that view's
camera; betas 0 and the male model (AIST++ fits SMPL's male model with zero shape and one
global scale, ``smpl_scaling``, not applied here); SPIN's box around the view's 2D keypoints;
image ``<video>/<frame:08d>.jpg``, the names the API's ``ffmpeg_video_to_images(video,
<video>, fps=60)`` writes. Frames of a view without any 2D keypoint are left out and reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from mocap_hmr.data.benchmarks.annotations import boxes_from_keypoints, rotate_root
from mocap_hmr.data.benchmarks.benchmark_set import BenchmarkSet
from mocap_hmr.data.benchmarks.readers import array_field, pick, read_pickle, read_text_pairs, require_dir
from mocap_hmr.data.spin_dataset import DatasetError
from mocap_hmr.geometry import axis_angle_to_matrix

FPS = 60.0
VIEWS = tuple(f"c{i:02d}" for i in range(1, 10))
MOTION_EXPECTED = "an AIST++ motion file: a dict with smpl_poses (F, 72), smpl_trans (F, 3), smpl_scaling (1,)"
KEYPOINTS_EXPECTED = "an AIST++ keypoints2d file: a dict with keypoints2d (9, F, 17, 3), det_scores, timestamps"
MAPPING_EXPECTED = "AIST++'s cameras/mapping.txt, one '<sequence> <setting>' line per sequence"
CAMERAS_EXPECTED = "an AIST++ camera file: a list of cameras, each with name and rotation (3,)"


def load_aistpp(root: str | Path, views: Iterable[str] = VIEWS, sequences: Iterable[str] | None = None,
                log=print) -> BenchmarkSet:
    """The given ``views`` of the given ``sequences`` (default: every ``motions/*.pkl``, by name)."""
    root = Path(root)
    motions = require_dir(root / "motions", "the AIST++ annotation folder (motions/, keypoints2d/, cameras/)")
    views = list(views)
    unknown = [v for v in views if v not in VIEWS]
    if unknown or not views:
        raise DatasetError(f"AIST++ views {unknown or views}: expected some of {', '.join(VIEWS)}")
    names = list(sequences) if sequences is not None else sorted(p.stem for p in motions.glob("*.pkl"))
    if not names:
        raise DatasetError(f"{motions}: no .pkl motion file")
    mapping_path = root / "cameras" / "mapping.txt"
    mapping = read_text_pairs(mapping_path, MAPPING_EXPECTED)
    cameras: dict[str, dict[str, np.ndarray]] = {}
    parts = []
    for name in names:
        if name not in mapping:
            raise DatasetError(f"{mapping_path}: no line for sequence {name}; expected {MAPPING_EXPECTED}")
        setting = mapping[name]
        if setting not in cameras:
            cameras[setting] = _camera_rotations(root / "cameras" / f"{setting}.json")
        parts += _read_sequence(root, name, cameras[setting], views, log)
    arrays = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return BenchmarkSet(name="aistpp", fps=FPS, source=str(root), **arrays)


def _camera_rotations(path: Path) -> dict[str, np.ndarray]:
    """View name -> world-to-camera rotation (3, 3)."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; expected {CAMERAS_EXPECTED}")
    try:
        cameras = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: cannot be read as JSON ({exc}); expected {CAMERAS_EXPECTED}") from exc
    if not isinstance(cameras, list):
        raise DatasetError(f"{path}: holds a {type(cameras).__name__}; expected {CAMERAS_EXPECTED}")
    rotations = {}
    for i, camera in enumerate(cameras):
        if not isinstance(camera, dict) or "name" not in camera or "rotation" not in camera:
            raise DatasetError(f"{path}: camera {i} has no name or rotation; expected {CAMERAS_EXPECTED}")
        rvec = array_field(np.ravel(camera["rotation"]), (3,), path, f"camera {camera['name']}: rotation")
        rotations[str(camera["name"])] = axis_angle_to_matrix(torch.from_numpy(rvec)).numpy()
    return rotations


def _read_sequence(root: Path, name: str, rotations: dict[str, np.ndarray], views: list[str],
                   log) -> list[dict[str, np.ndarray]]:
    """One dict of BenchmarkSet fields per view of one sequence."""
    if "cAll" not in name:
        raise DatasetError(f"{root / 'motions'}: sequence {name} has no 'cAll' to replace by a view name")
    motion_path, keypoints_path = root / "motions" / f"{name}.pkl", root / "keypoints2d" / f"{name}.pkl"
    poses = np.asarray(pick(read_pickle(motion_path, MOTION_EXPECTED), ("smpl_poses",), motion_path, MOTION_EXPECTED))
    if poses.ndim == 3:  # the API's docstring has (F, 24, 3)
        poses = poses.reshape(len(poses), -1)
    poses = array_field(poses, ("F", 72), motion_path, "smpl_poses")
    keypoints = array_field(
        pick(read_pickle(keypoints_path, KEYPOINTS_EXPECTED), ("keypoints2d",), keypoints_path, KEYPOINTS_EXPECTED),
        (len(VIEWS), len(poses), "J", 3), keypoints_path, "keypoints2d (views, frames of smpl_poses, joints, 3)",
        finite=False)
    parts = []
    for view in views:
        if view not in rotations:
            raise DatasetError(f"{root / 'cameras'}: the camera file of {name} has no camera named {view}")
        center, scale, found = boxes_from_keypoints(keypoints[VIEWS.index(view)])
        video = name.replace("cAll", view)
        if not found.all():
            log(f"{keypoints_path}: view {view}: {int((~found).sum())} of {len(found)} frames have no 2D keypoint, "
                "so no box; left out")
        frame = np.flatnonzero(found)
        parts.append({
            "image_paths": np.array([f"{video}/{f:08d}.jpg" for f in frame], dtype=str),
            "center": center[found], "scale": scale[found], "sequence": np.full(len(frame), video), "frame": frame,
            "pose": rotate_root(poses[frame], rotations[view]), "betas": np.zeros((len(frame), 10)),
            "gender": np.full(len(frame), "m"),
        })
    return parts
