"""Image files in and out (PNG, JPEG) through kornia-rs, which comes with kornia."""

from __future__ import annotations

import os
from pathlib import Path

import kornia_rs.io
import numpy as np
import torch

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


# SPIN's (ImageNet's) normalization of crops fed to HMR.
IMG_NORM_MEAN = (0.485, 0.456, 0.406)
IMG_NORM_STD = (0.229, 0.224, 0.225)


def _channel_stats(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean = torch.tensor(IMG_NORM_MEAN, dtype=images.dtype, device=images.device)[:, None, None]
    std = torch.tensor(IMG_NORM_STD, dtype=images.dtype, device=images.device)[:, None, None]
    return mean, std


def normalize_images(images: torch.Tensor) -> torch.Tensor:
    """(..., 3, H, W) in [0, 1] -> SPIN's normalized crops."""
    mean, std = _channel_stats(images)
    return (images - mean) / std


def denormalize_images(images: torch.Tensor) -> torch.Tensor:
    """SPIN's normalized crops (..., 3, H, W) -> [0, 1] (clamped)."""
    mean, std = _channel_stats(images)
    return (images * std + mean).clamp(0, 1)


VIDEO_SUFFIXES = (".gif", ".mp4")


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: float) -> Path:
    """Write uint8 frames (N, H, W, 3) RGB as an animated GIF (Pillow) or an MP4 (H.264 through
    imageio-ffmpeg's bundled ffmpeg, when installed), atomically; returns the path."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        raise MocapHMRError(f"{path}: videos are written as {' or '.join(VIDEO_SUFFIXES)}")
    frames = np.ascontiguousarray(frames)
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or not len(frames):
        raise ValueError(f"write_video({path}): expected uint8 (N, H, W, 3) with N >= 1, got {frames.dtype} "
                         f"{frames.shape}")
    if suffix == ".gif":
        try:
            from PIL import Image
        except ImportError as exc:
            raise MocapHMRError(f"{path}: writing a GIF needs Pillow (pip install 'mocap-hmr[video]')") from exc
        images = [Image.fromarray(frame) for frame in frames]
        with atomic_path(path) as tmp:
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                           duration=max(int(round(1000 / fps)), 20), loop=0)
        return path
    try:
        import imageio.v2 as imageio_v2
        import imageio_ffmpeg  # noqa: F401  (the ffmpeg binary imageio writes MP4 with)
    except ImportError as exc:
        raise MocapHMRError(f"{path}: writing an MP4 needs imageio and imageio-ffmpeg (pip install "
                            "'mocap-hmr[video]'); a .gif needs only Pillow") from exc
    with atomic_path(path) as tmp:
        even = frames[:, : frames.shape[1] // 2 * 2, : frames.shape[2] // 2 * 2]  # H.264 wants even sizes
        imageio_v2.mimwrite(tmp, even, format="FFMPEG", fps=fps, codec="libx264", macro_block_size=1)
    return path
