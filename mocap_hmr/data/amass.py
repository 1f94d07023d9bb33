"""Reading AMASS motion files into SMPL's 24 joints, Y up, at a chosen frame rate.

An AMASS ``.npz`` holds ``poses`` (N, 156) SMPL+H axis-angle (also (N, 72) SMPL or
(N, 165) SMPL-X), ``trans`` (N, 3), ``betas`` (16 or 10), ``gender`` (str, bytes or a 0-d
array) and a frame rate under ``mocap_framerate`` (older releases) or ``mocap_frame_rate``.

Choices, made once here:
- SMPL joints 0..21 are the first 66 values (root + 21 body joints) in every layout.
- SMPL's hand joints 22/23 take the rotation of the first joint of each hand chain (the
  index finger's base in SMPL+H and SMPL-X), which is the closest thing those files have
  to a hand root; SMPL files keep their own 22/23.
- Z up (AMASS) -> Y up (SMPL, a standing subject's head at +Y): see ``frames.py``. The
  translation is stored as ``ZUP_TO_YUP trans``; SMPL turns a body about its rest pelvis
  J0, so placing a body exactly takes ``geometry.frames.yup_translation(trans, J0)`` with J0 of the
  body in use and its betas (the loader does not know that body).
- Resampling picks, for each output time k / fps, the nearest source frame (120 -> 30 fps
  keeps every 4th frame; 59.94 -> 30 fps drops one frame in about a thousand). No
  interpolation, so every output pose is a captured one.
- ``betas``: the first 10 values (SMPL+H's 16-dim shape space is not SMPL's; AMASS betas
  are kept as a per-sequence shape hint, not as SMPL shapes).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import torch

from mocap_hmr.body.model_files import normalize_gender
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry.frames import zup_to_yup

POSE_LAYOUTS = {72: "SMPL", 156: "SMPL+H", 165: "SMPL-X"}
# Offsets of the left / right hand chain's first joint in each layout (axis-angle values).
_HAND_ROOTS = {72: (66, 69), 156: (66, 111), 165: (75, 120)}
FRAMERATE_KEYS = ("mocap_framerate", "mocap_frame_rate")
NON_MOTION_SUFFIXES = ("shape.npz", "_stagei.npz")
NUM_BETAS = 10


class MotionFileError(MocapHMRError, ValueError):
    """A motion file is unreadable or malformed; the message names the file and the field."""


def is_motion_candidate(path: str | os.PathLike) -> bool:
    """An .npz that is not a shape file (``shape.npz``, ``*_stagei.npz``)."""
    name = Path(path).name.lower()
    return name.endswith(".npz") and not name.endswith(NON_MOTION_SUFFIXES)


def read_npz(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """All arrays of an .npz file; an unreadable file raises ``MotionFileError``."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise MotionFileError(f"{path}: cannot be read as an .npz file ({exc})") from exc


def is_motion(arrays: dict[str, np.ndarray]) -> bool:
    """Whether the arrays describe motion (have ``poses`` or ``trans``) rather than a shape."""
    return "poses" in arrays or "trans" in arrays


def frame_rate(arrays: dict[str, np.ndarray], path: Path) -> float:
    for key in FRAMERATE_KEYS:
        if key in arrays:
            fps = float(np.asarray(arrays[key]).reshape(-1)[0])
            if not np.isfinite(fps) or fps <= 0:
                raise MotionFileError(f"{path}: {key} is {fps}; expected a positive frame rate")
            return fps
    raise MotionFileError(
        f"{path}: no frame-rate key (neither mocap_framerate nor mocap_frame_rate); "
        f"keys present: {', '.join(sorted(arrays))}"
    )


def _check_finite(path: Path, name: str, array: np.ndarray) -> None:
    bad = ~np.isfinite(array)
    if bad.any():
        frame = int(np.nonzero(bad.reshape(len(array), -1).any(1))[0][0])
        raise MotionFileError(
            f"{path}: {name} has {int(bad.sum())} NaN/Inf values, the first at frame {frame}"
        )


def smpl_pose_from_amass(poses: np.ndarray) -> np.ndarray:
    """(N, 72 | 156 | 165) -> (N, 24, 3): body joints 0..21 plus hand joints 22/23 (see the
    module docstring)."""
    left, right = _HAND_ROOTS[poses.shape[1]]
    return np.concatenate(
        [poses[:, :66], poses[:, left:left + 3], poses[:, right:right + 3]], axis=1
    ).reshape(-1, 24, 3)


def resample_indices(n_frames: int, source_fps: float, target_fps: float) -> np.ndarray:
    """Source frame index nearest to each output time k / target_fps, over the duration
    (n_frames - 1) / source_fps."""
    duration = (n_frames - 1) / source_fps
    n_out = int(np.floor(duration * target_fps + 1e-6)) + 1
    times = np.arange(n_out) * (source_fps / target_fps)
    return np.minimum(np.floor(times + 0.5 + 1e-9).astype(np.int64), n_frames - 1)


def load_amass_npz(path: str | os.PathLike, fps: float | None = 30.0) -> dict:
    """One AMASS motion file as SMPL motion in the Y-up frame.

    Returns ``poses`` (M, 24, 3) float32 axis-angle, ``trans`` (M, 3) float32 (``ZUP_TO_YUP
    trans``: see ``geometry.frames.yup_translation``), ``betas
    (10,) float32, ``gender`` str, ``fps`` (the output rate), ``source_fps``; ``fps=None``
    keeps the source rate. Malformed files raise ``MotionFileError`` naming the file and field.
    """
    path = Path(path)
    arrays = read_npz(path)
    missing = [k for k in ("poses", "trans", "betas", "gender") if k not in arrays]
    if missing:
        raise MotionFileError(
            f"{path}: missing {', '.join(missing)}; an AMASS motion file has poses, trans, betas, "
            f"gender and mocap_framerate (keys present: {', '.join(sorted(arrays))})"
        )
    poses, trans = np.asarray(arrays["poses"]), np.asarray(arrays["trans"])
    if poses.ndim != 2 or poses.shape[1] not in POSE_LAYOUTS:
        raise MotionFileError(
            f"{path}: poses has shape {poses.shape}; AMASS files have (N, 156) SMPL+H, "
            "(N, 72) SMPL or (N, 165) SMPL-X"
        )
    if len(poses) == 0:
        raise MotionFileError(f"{path}: poses has zero frames")
    if trans.shape != (len(poses), 3):
        raise MotionFileError(f"{path}: trans has shape {trans.shape}; expected ({len(poses)}, 3) like poses")
    _check_finite(path, "poses", poses)
    _check_finite(path, "trans", trans)
    source_fps = frame_rate(arrays, path)
    betas = np.asarray(arrays["betas"], dtype=np.float64).reshape(-1)
    _check_finite(path, "betas", betas[None])
    try:
        gender = normalize_gender(arrays["gender"])
    except MocapHMRError as exc:
        raise MotionFileError(f"{path}: gender: {exc}") from exc
    keep = resample_indices(len(poses), source_fps, fps) if fps else np.arange(len(poses))
    pose = torch.from_numpy(smpl_pose_from_amass(poses[keep]).astype(np.float64))
    root, moved = zup_to_yup(pose[:, 0], torch.from_numpy(trans[keep].astype(np.float64)))
    pose[:, 0] = root
    betas10 = np.zeros(NUM_BETAS, dtype=np.float32)
    betas10[: min(NUM_BETAS, len(betas))] = betas[:NUM_BETAS]
    return {
        "poses": pose.float().numpy(),
        "trans": moved.float().numpy(),
        "betas": betas10,
        "gender": gender,
        "fps": float(fps) if fps else source_fps,
        "source_fps": source_fps,
    }
