"""Annotation conversions the benchmark loaders share: SPIN's boxes from 2D keypoints, the
global orientation into the camera frame, genders, and frame numbers from image names."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from mocap_hmr.body.model_files import normalize_gender
from mocap_hmr.data.spin_dataset import DatasetError
from mocap_hmr.errors import ModelFileError
from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_axis_angle

BOX_SCALE_FACTOR = 1.2  # SPIN's scaleFactor: the box is 1.2 x the keypoints' longer side


def boxes_from_keypoints(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SPIN's box around the keypoints (N, J, 3) with confidence > 0 (and finite): centre (N, 2)
    of their bounding box, scale (N,) = 1.2 x its longer side / 200, and found (N,) bool, false
    where no keypoint qualifies (centre and scale 0 there)."""
    xy = keypoints[..., :2]
    visible = (keypoints[..., 2] > 0) & np.isfinite(xy).all(-1)
    low = np.where(visible[..., None], xy, np.inf).min(1)
    high = np.where(visible[..., None], xy, -np.inf).max(1)
    found = visible.any(1)
    low[~found], high[~found] = 0.0, 0.0
    return (low + high) / 2, BOX_SCALE_FACTOR * (high - low).max(1) / 200, found


def rotate_root(pose: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """``pose`` (N, 72) with its global orientation left-multiplied by ``rotation`` (N, 3, 3) or
    (3, 3), e.g. world -> camera (SPIN's 3DPW preprocessing: R_cam @ R_world)."""
    root = axis_angle_to_matrix(torch.from_numpy(pose[:, :3]))
    turned = torch.from_numpy(np.asarray(rotation, dtype=np.float64)) @ root
    out = pose.copy()
    out[:, :3] = matrix_to_axis_angle(turned).numpy()
    return out


def gender_codes(genders, path: Path, field: str) -> np.ndarray:
    """(N,) 'm' | 'f' | 'n' from any spelling ``normalize_gender`` accepts ('m', b'female', ...)."""
    codes = []
    for i, gender in enumerate(genders):
        try:
            codes.append(normalize_gender(gender)[0])
        except ModelFileError as exc:
            value = gender.decode("latin1") if isinstance(gender, bytes) else str(gender)
            raise DatasetError(f"{path}: {field}[{i}] is {value!r}; expected m, f or n (male, female, "
                               "neutral)") from exc
    return np.array(codes)


def parse_image_names(names: np.ndarray, pattern: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(sequence (N,) str, number (N,) int) from image names matching ``pattern``, a regular
    expression with the groups ``seq`` and ``num``."""
    regex = re.compile(pattern)
    sequences, numbers = [], []
    for i, name in enumerate(names):
        match = regex.search(str(name))
        if match is None:
            raise DatasetError(f"{path}: imgname[{i}] is {str(name)!r}; expected a name matching {pattern}")
        sequences.append(match["seq"])
        numbers.append(int(match["num"]))
    return np.array(sequences), np.array(numbers, dtype=np.int64)
