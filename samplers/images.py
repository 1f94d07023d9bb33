"""Folders of images decoded once into one uint8 tensor (textures, backgrounds)."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from mocap_hmr.errors import MocapHMRError
from mocap_hmr.imageio import ImageFileError, read_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


class ImageFolderError(MocapHMRError, ValueError):
    """An image folder is missing, empty, or holds no decodable image."""


def load_image_folder(folder: str | Path, size: int, what: str, limit: int | None = None) -> torch.Tensor:
    """Every decodable PNG/JPEG under ``folder`` (recursive, sorted, at most ``limit``),
    centre-cropped to a square and resized to (size, size): uint8 (N, 3, size, size).
    Unreadable files are skipped and counted; none readable raises ``ImageFolderError``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ImageFolderError(f"{what} folder {folder} does not exist")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)[:limit]
    images, bad = [], 0
    for path in files:
        try:
            image = torch.from_numpy(read_image(path)).permute(2, 0, 1)[None].float()
        except ImageFileError:
            bad += 1
            continue
        side = min(image.shape[-2:])
        top, left = (image.shape[-2] - side) // 2, (image.shape[-1] - side) // 2
        square = image[..., top:top + side, left:left + side]
        images.append(F.interpolate(square, size=(size, size), mode="area").round().to(torch.uint8))
    if not images:
        raise ImageFolderError(
            f"{what} folder {folder} holds no decodable image ({len(files)} PNG/JPEG files, {bad} unreadable)"
        )
    return torch.cat(images)
