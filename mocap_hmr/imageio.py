"""Image files in and out (PNG, JPEG) through kornia-rs, which comes with kornia."""

from __future__ import annotations

import os
from pathlib import Path

import kornia_rs.io
import numpy as np

from mocap_hmr.atomic import atomic_path
from mocap_hmr.errors import MocapHMRError


class ImageFileError(MocapHMRError, ValueError):
    """An image file is missing or cannot be decoded."""


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Decode a PNG or JPEG file to uint8 (H, W, 3) RGB."""
    path = Path(path)
    if not path.is_file():
        raise ImageFileError(f"{path}: no such image file")
    try:
        image = np.asarray(kornia_rs.io.read_image(str(path)))
    except Exception as exc:  # kornia-rs raises its own exception types
        raise ImageFileError(f"{path}: cannot be decoded as an image ({exc})") from exc
    if image.ndim == 2:
        image = image[..., None]
    if image.shape[-1] == 1:
        image = np.repeat(image, 3, axis=-1)
    return np.ascontiguousarray(image[..., :3])


def write_png(path: str | os.PathLike, image: np.ndarray) -> Path:
    """Write uint8 (H, W, 3) RGB to ``path`` atomically (temporary file, then rename)."""
    path = Path(path)
    image = np.ascontiguousarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
        raise ValueError(f"write_png({path}): expected uint8 (H, W, 3), got {image.dtype} {image.shape}")
    with atomic_path(path) as tmp:
        kornia_rs.io.write_image_png_u8(str(tmp), image, "rgb")
    return path
