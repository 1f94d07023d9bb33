"""Assemble a ``SyntheticRenderer`` from paths (or the embedded defaults) on one device."""

from __future__ import annotations

from pathlib import Path

import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.body.standin import resolve_body_model
from mocap_hmr.data.default_corpus import default_motion_index
from mocap_hmr.data.motion_index import MotionIndex, load_index
from renderers.appearance import body_texture_sampler
from renderers.augment import PhotometricAugment
from renderers.synthetic import SyntheticRenderer
from samplers import PoseSampler
from samplers.backgrounds import BackgroundSampler


def build_renderer(body: BodyModel | str | Path | None = None, motion_index: MotionIndex | str | Path | None = None,
                   image_size: int = 224, backend: str = "auto", device: str | torch.device = "cpu",
                   textures: str | Path | None = None, backgrounds: str | Path | None = None,
                   texture_size: int | None = None,
                   augment: bool = True, clothed: float = 0.9) -> SyntheticRenderer:
    """body: a BodyModel on ``device``, or an SMPL folder/file (default: $SMPL_DIR, else the
    stand-in body); motion_index: a MotionIndex on ``device`` (shared, not copied), or an
    index file (default: the procedural corpus at 30 fps); textures / backgrounds: image
    folders (default: the body's skin textures with procedural clothes / procedural rooms);
    texture_size: texels per side (default 256 up to 128 px crops, else 512: about two
    texels per pixel of a body filling the crop); augment: photometric augmentation;
    clothed: the fraction of default textures that get clothes."""
    texture_size = texture_size or (256 if image_size <= 128 else 512)
    body_model = body if isinstance(body, BodyModel) else BodyModel(resolve_body_model(body)).to(device)
    index = motion_index if isinstance(motion_index, MotionIndex) else \
        load_index(motion_index or default_motion_index(), device=device)
    return SyntheticRenderer(
        body_model, PoseSampler(index), body_texture_sampler(body_model, texture_size, textures, device, clothed),
        BackgroundSampler(image_size, folder=backgrounds, device=device), image_size=image_size, backend=backend,
        augment=PhotometricAugment() if augment else None,
    )
