"""Appearance set-up for a body model: its UV part map and its texture sampler."""

from __future__ import annotations

from pathlib import Path

import torch

from mocap_hmr.body import BodyModel
from renderers.torch_rasterizer import rasterize as rasterize_torch
from samplers.images import ImageFolderError, load_image_folder
from samplers.textures import TextureSampler


def uv_part_map(body: BodyModel, size: int) -> torch.Tensor:
    """(size, size) long: the SMPL joint driving the face that covers each texel of the
    body's UV layout (a face's joint: the largest summed skinning weight over its three
    vertices), -1 where no face is mapped."""
    if body.uv is None:
        raise ImageFolderError(f"{body.model_file}: the body model has no UV coordinates (vt, ft) to texture")
    vt, ft = (torch.as_tensor(a) for a in body.uv)
    part_of_face = body.smpl.lbs_weights[body.faces].sum(1).argmax(1)  # (F,)
    corners = vt.double()[ft.long()]  # (F, 3, 2)
    # the UV triangles as a mesh at depth 1 seen with focal 1: pixel x = u * size, y = (1 - v) * size
    points = torch.stack([corners[..., 0] * size, (1 - corners[..., 1]) * size, torch.ones_like(corners[..., 0])], -1)
    frags = rasterize_torch(points.reshape(1, -1, 3), torch.arange(points.shape[0] * 3).reshape(-1, 3),
                            torch.ones(1, 2, dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64), (size, size))
    face = frags.pix_to_face[0, :, :, 0]
    return torch.where(face >= 0, part_of_face[face.clamp(min=0)], -1)


def body_texture_sampler(body: BodyModel, size: int = 512, folder: str | Path | None = None,
                         device: str | torch.device = "cpu", clothed: float = 0.9) -> TextureSampler:
    """Textures from ``folder`` as they are, else the body's skin textures
    (``<model folder>/textures``) with procedural clothes on a ``clothed`` fraction."""
    if folder is not None:
        return TextureSampler(load_image_folder(folder, size, "texture").to(device))
    skins = load_image_folder(body.model_file.parent / "textures", size, "skin texture").to(device)
    return TextureSampler(skins, uv_part_map(body, size).to(device), clothed=clothed)
