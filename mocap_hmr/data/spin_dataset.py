"""SPIN's image datasets (``datasets/npz/*.npz`` + an image folder) with SPIN's augmentations.

An ``.npz`` has, per sample: ``imgname`` (path relative to the image folder), ``center``
(2,) and ``scale`` (the person box is scale * 200 px), ``part`` (24, 3) ground-truth 2D
keypoints with visibility, and optionally ``openpose`` (25, 3), ``S`` (24, 4) 3D joints with
a confidence column (0 for joints the dataset does not annotate), ``pose`` (72,) / ``shape``
(10,) SMPL parameters with ``has_smpl``. SPIN's fits of the dataset (``<dataset>_fits.npy``,
(N, 82): pose 72 + betas 10) may be given alongside: samples without SMPL parameters then
carry their fit, flagged ``has_fit`` (``spin_fits.FitCheck`` decides, per batch, whether it
supervises). Samples come out in the fields of ``CropBatch`` so the training step never
asks where a sample came from.

Augmentation (SPIN's ``augm_params``): flip with probability 0.5 (joints swap sides through
``SPIN_FLIP_PERM`` / ``SMPL_FLIP_PERM``, axis-angle y and z negated), rotation N(0, 30 deg)
clipped to +-60 deg in 40% of samples, scale N(1, 0.25) clipped to [0.75, 1.25], per-channel
pixel gain U[0.6, 1.4]. The crop, rotation and flip are one affine map applied to the image
(bilinear), the 2D keypoints, and (about the optical axis) the 3D joints and root rotation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mocap_hmr.body.joint_maps import SMPL_FLIP_PERM, SPIN_FLIP_PERM
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_axis_angle
from mocap_hmr.imageio import ImageFileError, normalize_images, read_image

REQUIRED_KEYS = ("imgname", "center", "scale", "part")
SKIP_HINT = "mocap_spin.skip_bad=true skips (and counts) unusable images"
FIT_WIDTH = 82  # SPIN's fits: pose 72 + betas 10


class DatasetError(MocapHMRError, ValueError):
    """A dataset file or one of its images is missing or malformed."""


@dataclass
class SpinAugment:
    flip: float = 0.5
    rotation_sigma: float = 30.0  # degrees
    rotation_probability: float = 0.4
    scale_sigma: float = 0.25
    pixel_noise: float = 0.4

    def draw(self, rng: np.random.Generator) -> tuple[bool, float, float, np.ndarray]:
        """(flip, rotation degrees, scale factor, per-channel gain (3,))."""
        flip = rng.uniform() < self.flip
        rot = float(np.clip(rng.normal() * self.rotation_sigma, -2 * self.rotation_sigma, 2 * self.rotation_sigma))
        rot = rot if rng.uniform() < self.rotation_probability else 0.0
        scale = float(np.clip(rng.normal() * self.scale_sigma + 1, 1 - self.scale_sigma, 1 + self.scale_sigma))
        gain = rng.uniform(1 - self.pixel_noise, 1 + self.pixel_noise, size=3)
        return flip, rot, scale, gain


def read_dataset(path: str | Path) -> dict[str, np.ndarray]:
    """The arrays of a SPIN dataset file, checked: required keys, equal lengths."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot be read as a SPIN dataset .npz ({exc})") from exc
    missing = [k for k in REQUIRED_KEYS if k not in arrays]
    if missing:
        raise DatasetError(f"{path}: missing {', '.join(missing)}; SPIN datasets have "
                           f"{', '.join(REQUIRED_KEYS)} (and optionally openpose, S, pose, shape, has_smpl)")
    lengths = {k: len(v) for k, v in arrays.items() if v.ndim > 0}
    if len(set(lengths.values())) > 1:
        raise DatasetError(f"{path}: keys of unequal lengths: {', '.join(f'{k} {n}' for k, n in lengths.items())}")
    return arrays


def read_fits(path: str | Path, n: int) -> np.ndarray:
    """SPIN's fits of a dataset of ``n`` samples: (n, 82) float32, checked."""
    path = Path(path)
    try:
        fits = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot be read as SPIN's fits .npy ({exc})") from exc
    if fits.shape != (n, FIT_WIDTH):
        raise DatasetError(f"{path}: has shape {fits.shape}; SPIN's fits of this dataset are ({n}, {FIT_WIDTH}) "
                           "(pose 72 + betas 10, one row per sample of its .npz)")
    finite = np.isfinite(fits).all(1)
    if not finite.all():
        raise DatasetError(f"{path}: NaN/Inf in the fits, the first in row {int(np.flatnonzero(~finite)[0])}")
    return fits.astype(np.float32)


class SpinDataset(torch.utils.data.Dataset):
    """Augmented crops of a SPIN dataset; ``dataset[i]`` is a dict of CropBatch fields
    for one sample (images (3, S, S) normalized, joints2d (49, 3), joints3d (49, 3) with the
    24 ground-truth joints at 25..48, joints3d_conf (49,), pose (24, 3), betas (10,),
    has_smpl, has_3d) and has_fit. ``fits``: SPIN's fits file of this dataset, or None.
    ``skip_bad``: images that are missing are left out (and counted) here; one that cannot be
    decoded still raises ``DatasetError`` when read, for the reader to skip and count
    (``real_stream.RealImageStream``)."""

    def __init__(self, npz: str | Path, image_dir: str | Path, size: int = 224, augment: SpinAugment | None = None,
                 seed: int = 0, skip_bad: bool = False, log=print, fits: str | Path | None = None):
        self.path, self.image_dir, self.size = Path(npz), Path(image_dir), size
        self.arrays = read_dataset(self.path)
        if fits is not None:
            self.arrays["fits"] = read_fits(fits, len(self.arrays["imgname"]))
        self.augment, self.seed, self.skip_bad = augment, seed, skip_bad
        self.epoch = 0
        present = np.array([(self.image_dir / str(n)).is_file() for n in self.arrays["imgname"]], dtype=bool)
        if not present.all():
            missing = self.arrays["imgname"][~present]
            message = (f"{self.path}: {len(missing)} of {len(present)} images are not in {self.image_dir} "
                       f"(first: {', '.join(str(m) for m in missing[:3])})")
            if not skip_bad:
                raise DatasetError(f"{message}; check the image folder, or {SKIP_HINT}")
            log(message + "; skipped")
            self.arrays = {k: v[present] if v.ndim > 0 else v for k, v in self.arrays.items()}

    def __len__(self) -> int:
        return len(self.arrays["imgname"])

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        a = self.arrays
        name = self.image_dir / str(a["imgname"][i])
        try:
            image = torch.from_numpy(read_image(name)).permute(2, 0, 1).float() / 255
        except ImageFileError as exc:
            hint = "" if self.skip_bad else f"; {SKIP_HINT}"
            raise DatasetError(f"{self.path}: sample {i}: {exc}{hint}") from exc
        rng = np.random.default_rng([self.seed, self.epoch, i])
        flip, rot, scale, gain = self.augment.draw(rng) if self.augment else (False, 0.0, 1.0, np.ones(3))
        box = float(a["scale"][i]) * 200 * scale
        to_crop = crop_affine(np.asarray(a["center"][i], float), box, rot, flip, self.size)  # (2, 3)
        crop = warp(image, to_crop, self.size) * torch.tensor(gain, dtype=torch.float32)[:, None, None]
        keypoints = np.concatenate([a["openpose"][i] if "openpose" in a else np.zeros((25, 3)), a["part"][i]])
        xy = keypoints[:, :2] @ to_crop[:, :2].T + to_crop[:, 2]
        vis = keypoints[:, 2] * ((xy >= 0) & (xy < self.size)).all(1)
        joints2d = np.concatenate([2 * xy / self.size - 1, vis[:, None]], 1)
        spin, conf3d = np.zeros((49, 3)), np.zeros(49)
        has_3d = "S" in a
        if has_3d:
            spin[25:], conf3d[25:] = a["S"][i][:, :3], a["S"][i][:, 3]
        has_smpl = "pose" in a and "shape" in a and (bool(a["has_smpl"][i]) if "has_smpl" in a else True)
        has_fit = not has_smpl and "fits" in a
        pose, betas = np.zeros((24, 3)), np.zeros(10)
        if has_smpl:
            pose, betas = a["pose"][i].reshape(24, 3), a["shape"][i]
        elif has_fit:
            pose, betas = a["fits"][i, :72].reshape(24, 3), a["fits"][i, 72:]
        in_plane = _in_plane_rotation(rot)
        spin, pose = _rotate_3d(spin, pose, in_plane)
        if flip:
            joints2d = joints2d[list(SPIN_FLIP_PERM)]
            spin = spin[list(SPIN_FLIP_PERM)] * np.array([-1.0, 1.0, 1.0])
            conf3d = conf3d[list(SPIN_FLIP_PERM)]
            pose = pose[list(SMPL_FLIP_PERM)] * np.array([1.0, -1.0, -1.0])
        return {
            "images": normalize_images(crop.clamp(0, 1)),
            "joints2d": torch.as_tensor(joints2d, dtype=torch.float32),
            "joints3d": torch.as_tensor(spin, dtype=torch.float32),
            "joints3d_conf": torch.as_tensor(conf3d, dtype=torch.float32),
            "pose": torch.as_tensor(pose, dtype=torch.float32),
            "betas": torch.as_tensor(betas, dtype=torch.float32),
            "has_smpl": torch.tensor(has_smpl), "has_3d": torch.tensor(has_3d), "has_fit": torch.tensor(has_fit),
        }


def crop_affine(center: np.ndarray, box: float, rot_degrees: float, flip: bool, size: int) -> np.ndarray:
    """(2, 3) affine: source pixel -> crop pixel. The box of side ``box`` around ``center``
    maps onto the crop, turned by ``rot_degrees`` (counter-clockwise as seen) and mirrored
    left-right when ``flip``."""
    t = math.radians(rot_degrees)
    # y points down, so a counter-clockwise turn as seen is this matrix
    rotation = np.array([[math.cos(t), math.sin(t)], [-math.sin(t), math.cos(t)]])
    linear = rotation * (size / box)
    if flip:
        linear = np.diag([-1.0, 1.0]) @ linear
    offset = np.array([size / 2, size / 2]) - linear @ center
    return np.concatenate([linear, offset[:, None]], 1)


def warp(image: torch.Tensor, to_crop: np.ndarray, size: int) -> torch.Tensor:
    """Crop (3, size, size) of image (3, H, W) through the affine ``to_crop`` (bilinear, zeros outside)."""
    full = np.vstack([to_crop, [0, 0, 1]])
    back = np.linalg.inv(full)[:2]  # crop pixel -> source pixel
    h, w = image.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    pts = torch.stack([xs, ys, torch.ones_like(xs)], -1).double() @ torch.from_numpy(back).T
    grid = torch.stack([pts[..., 0] / w * 2 - 1, pts[..., 1] / h * 2 - 1], -1).float()
    return F.grid_sample(image[None], grid[None], mode="bilinear", align_corners=False)[0]


def _in_plane_rotation(rot_degrees: float) -> np.ndarray:
    """(3, 3) rotation about the optical axis matching the image turn (camera x right, y down)."""
    t = math.radians(rot_degrees)
    return np.array([[math.cos(t), math.sin(t), 0.0], [-math.sin(t), math.cos(t), 0.0], [0.0, 0.0, 1.0]])


def _rotate_3d(joints: np.ndarray, pose: np.ndarray, rotation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    joints = joints @ rotation.T
    root = axis_angle_to_matrix(torch.from_numpy(pose[0]).double())
    pose = pose.copy()
    pose[0] = matrix_to_axis_angle(torch.from_numpy(rotation) @ root).numpy()
    return joints, pose
