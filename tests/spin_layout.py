"""Tiny stand-ins for SPIN's training data, in SPIN's file layout, for the tests.

A dataset is ``<npz>`` (imgname, center, scale, part, openpose, optionally S), a folder of
PNG images and a fits file ``(N, 82)``. The 2D keypoints of a sample are the exact
projection of its fit's 49 joints (SPIN's camera: focal 5000 px on a 224 px crop of the
person box), so a fit passes SPIN's test, unless the sample is listed in ``wrong_fits``:
then its fits row holds another pose, which does not explain the keypoints.
"""

import math

import numpy as np
import torch

from mocap_hmr.imageio import write_png

CENTER, SCALE, IMAGE_SIZE = np.array([60.0, 50.0]), 0.4, (100, 120)
CAMERA_SCALE = 0.8  # SPIN's weak-perspective s of the fits: the body fills 80% of the crop


def fit_parameters(n: int, seed: int) -> np.ndarray:
    """(n, 82) plausible fits: upright in SPIN's camera frame (root pi about x), small body
    pose, betas within [-1, 1]."""
    rng = np.random.default_rng(seed)
    fits = np.zeros((n, 82), dtype=np.float32)
    fits[:, 0] = math.pi
    fits[:, 3:72] = rng.normal(scale=0.2, size=(n, 69))
    fits[:, 72:] = rng.uniform(-1, 1, size=(n, 10))
    return fits


def keypoints_of(body, fits: np.ndarray) -> np.ndarray:
    """(n, 49, 3) image pixels + confidence 1: the fits' joints seen by SPIN's camera."""
    with torch.no_grad():
        joints = body(torch.from_numpy(fits[:, :72]).reshape(-1, 24, 3), torch.from_numpy(fits[:, 72:])).spin_joints
    depth = 2 * 5000 / (224 * CAMERA_SCALE)
    points = joints.double().numpy() + [0.0, 0.0, depth]
    crop = 5000 * points[..., :2] / points[..., 2:] + 112
    image = CENTER + (crop - 112) * SCALE * 200 / 224
    return np.concatenate([image, np.ones((*image.shape[:2], 1))], -1)


def write_spin_dataset(npz, image_dir, fits_path, body, n: int = 4, seed: int = 0, with_3d: bool = False,
                       wrong_fits=()):
    """One dataset in SPIN's layout; returns its fits array (n, 82) as written."""
    fits = fit_parameters(n, seed)
    keypoints = keypoints_of(body, fits)
    rng = np.random.default_rng(seed + 100)
    names = []
    for i in range(n):
        names.append(f"images/im{i:03d}.png")
        write_png(image_dir / names[-1], rng.integers(0, 255, size=(*IMAGE_SIZE, 3), dtype=np.uint8))
    arrays = {"imgname": np.array(names), "center": np.tile(CENTER, (n, 1)), "scale": np.full(n, SCALE),
              "part": keypoints[:, 25:], "openpose": keypoints[:, :25]}
    if with_3d:
        s = np.concatenate([rng.normal(scale=0.3, size=(n, 24, 3)), np.ones((n, 24, 1))], -1)
        s[:, [12, 13, 14, 15, 19, 20, 21], :] = 0  # seven joints the dataset does not annotate
        arrays["S"] = s
    for i in wrong_fits:
        fits[i, :3] = [0.0, math.pi / 2, 0.0]  # facing sideways instead of the camera
    npz.parent.mkdir(parents=True, exist_ok=True)
    np.savez(npz, **arrays)
    fits_path.parent.mkdir(parents=True, exist_ok=True)
    np.save(fits_path, fits)
    return fits
