"""Appearance set-up for a body model: its UV face and part maps, its texture sampler, and the
part-coloured suit (the embedded world's real look, ``mocap_hmr.data.embedded_world``)."""

from __future__ import annotations

from pathlib import Path

import torch

from mocap_hmr.body import BodyModel
from renderers.shading import face_normals
from renderers.torch_rasterizer import rasterize as rasterize_torch
from samplers.images import ImageFolderError, load_image_folder
from samplers.textures import TextureSampler, hsv_to_rgb

SUIT_HUE_STEP = 0.381966  # the golden angle as a fraction of the hue circle
SUIT_SATURATION, SUIT_VALUE = 0.8, 0.9
SUIT_BACK = 0.45  # brightness of the suit's back relative to its front


def uv_face_map(body: BodyModel, size: int) -> torch.Tensor:
    """(size, size) long: the face of the body's UV layout covering each texel, -1 where none is."""
    if body.uv is None:
        raise ImageFolderError(f"{body.model_file}: the body model has no UV coordinates (vt, ft) to texture")
    vt, ft = (torch.as_tensor(a) for a in body.uv)
    corners = vt.double()[ft.long()]  # (F, 3, 2)
    # the UV triangles as a mesh at depth 1 seen with focal 1: pixel x = u * size, y = (1 - v) * size
    points = torch.stack([corners[..., 0] * size, (1 - corners[..., 1]) * size, torch.ones_like(corners[..., 0])], -1)
    frags = rasterize_torch(points.reshape(1, -1, 3), torch.arange(points.shape[0] * 3).reshape(-1, 3),
                            torch.ones(1, 2, dtype=torch.float64), torch.zeros(1, 2, dtype=torch.float64), (size, size))
    return frags.pix_to_face[0, :, :, 0]


def part_of_face(body: BodyModel) -> torch.Tensor:
    """(F,) long: the SMPL joint driving each face (the largest summed skinning weight over its
    three vertices)."""
    return body.smpl.lbs_weights[body.faces].sum(1).argmax(1)


def uv_part_map(body: BodyModel, size: int) -> torch.Tensor:
    """(size, size) long: the SMPL joint driving the face that covers each texel of the
    body's UV layout (``part_of_face``), -1 where no face is mapped."""
    face = uv_face_map(body, size)
    return torch.where(face >= 0, part_of_face(body)[face.clamp(min=0)], -1)


def suit_texture(body: BodyModel, size: int) -> torch.Tensor:
    """(3, size, size) uint8 on the CPU: a suit coloured by body part, legible at a few pixels per limb.
    Each of the 24 SMPL parts has its own hue (golden-angle steps, so left and right, and
    neighbouring parts, differ); faces turned away from the rest pose's front (-z normals:
    the back) are darker, so front and back differ too; unmapped texels are mid grey."""
    hues = (torch.arange(24, dtype=torch.float64) * SUIT_HUE_STEP) % 1.0
    palette = hsv_to_rgb(hues, SUIT_SATURATION, SUIT_VALUE)  # (24, 3)
    normals = face_normals(body.smpl.v_template.detach().cpu().double()[None], body.faces.cpu().long())[0]  # (F, 3)
    face_colour = palette[part_of_face(body).cpu()] * torch.where(normals[:, 2] > 0, 1.0, SUIT_BACK)[:, None]  # (F, 3)
    face = uv_face_map(body, size)
    texture = torch.where((face >= 0)[..., None], face_colour[face.clamp(min=0)], 0.5)  # (S, S, 3)
    return (texture.permute(2, 0, 1) * 255).round().to(torch.uint8)


def suit_textures(body: BodyModel, size: int = 256, device: str | torch.device = "cpu") -> TextureSampler:
    """A ``TextureSampler`` whose every texture is ``suit_texture``: one look for every body."""
    return TextureSampler(suit_texture(body, size)[None].to(device), clothed=0.0)


def body_texture_sampler(body: BodyModel, size: int = 512, folder: str | Path | None = None,
                         device: str | torch.device = "cpu", clothed: float = 0.9) -> TextureSampler:
    """Textures from ``folder`` as they are, else the body's skin textures
    (``<model folder>/textures``) with procedural clothes on a ``clothed`` fraction."""
    if folder is not None:
        return TextureSampler(load_image_folder(folder, size, "texture").to(device))
    skins = load_image_folder(body.model_file.parent / "textures", size, "skin texture").to(device)
    return TextureSampler(skins, uv_part_map(body, size).to(device), clothed=clothed)
