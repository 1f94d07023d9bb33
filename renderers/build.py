"""Assemble a ``SyntheticRenderer`` from its parts (or the embedded defaults) on one device.

Each caller builds the renderer it needs once: the cameras, crops, textures and backgrounds
are arguments (today's defaults when not given), never attributes patched afterwards.
``renderer_from_config`` is where a configured run's renderer takes ``render.image_size`` (and
the rest of the ``render`` section) from."""

from __future__ import annotations

from collections.abc import Callable
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
from samplers.cameras import CameraSampler
from samplers.crops import CropSampler
from samplers.textures import TextureSampler


def build_renderer(body: BodyModel | str | Path | None = None, motion_index: MotionIndex | str | Path | None = None,
                   image_size: int = 224, backend: str = "auto", device: str | torch.device = "cpu",
                   textures: str | Path | TextureSampler | None = None,
                   backgrounds: str | Path | Callable | None = None,
                   texture_size: int | None = None,
                   augment: bool = True, clothed: float = 0.9, cameras: CameraSampler | None = None,
                   crops: CropSampler | None = None) -> SyntheticRenderer:
    """body: a BodyModel on ``device``, or an SMPL folder/file (default: $SMPL_DIR, else the
    stand-in body); motion_index: a MotionIndex on ``device`` (shared, not copied), or an
    index file (default: the procedural corpus at 30 fps); textures: an image folder or a
    ``TextureSampler`` (default: the body's skin textures with procedural clothes);
    backgrounds: an image folder, or a background sampler's class (called with the image size
    and ``device=``; e.g. ``renderers.plain.SolidBackgrounds``) (default: procedural rooms);
    texture_size: texels per side (default 256 up to 128 px crops, else 512: about two
    texels per pixel of a body filling the crop); augment: photometric augmentation;
    clothed: the fraction of default textures that get clothes; cameras, crops: the
    viewpoint and crop samplers (default: ``CameraSampler()``, ``CropSampler()``)."""
    texture_size = texture_size or (256 if image_size <= 128 else 512)
    body_model = body if isinstance(body, BodyModel) else BodyModel(resolve_body_model(body)).to(device)
    index = motion_index if isinstance(motion_index, MotionIndex) else \
        load_index(motion_index or default_motion_index(), device=device)
    if not isinstance(textures, TextureSampler):
        textures = body_texture_sampler(body_model, texture_size, textures, device, clothed)
    if callable(backgrounds):
        backgrounds = backgrounds(image_size, device=device)
    else:
        backgrounds = BackgroundSampler(image_size, folder=backgrounds, device=device)
    return SyntheticRenderer(
        body_model, PoseSampler(index), textures, backgrounds, cameras=cameras, crops=crops, image_size=image_size,
        backend=backend, augment=PhotometricAugment() if augment else None,
    )


def renderer_from_config(render, body: BodyModel, motion_index: MotionIndex, device: str | torch.device,
                         **parts) -> SyntheticRenderer:
    """The training renderer of a configuration's ``render`` section (image size, backend,
    texture and background folders, texture size, augmentation); ``parts``: any of
    ``build_renderer``'s arguments, in place of the section's."""
    settings = {"image_size": render.image_size, "backend": render.backend, "textures": render.textures,
                "backgrounds": render.backgrounds, "texture_size": render.texture_size, "augment": render.augment}
    return build_renderer(body, motion_index, device=device, **(settings | parts))
