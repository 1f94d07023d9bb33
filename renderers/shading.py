"""Shading on top of ``Fragments`` (any backend): UV texture lookup, ambient + Lambertian
light, alpha mask, compositing over a background. Differentiable in the vertices (through
barycentrics and normals) and in the textures."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from renderers.torch_rasterizer import Fragments


def face_normals(verts: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Unit normals (B, F, 3) of the faces (F, 3) of meshes verts (B, V, 3)."""
    tri = verts[:, faces]
    return F.normalize(torch.cross(tri[:, :, 1] - tri[:, :, 0], tri[:, :, 2] - tri[:, :, 0], dim=-1), dim=-1)


def sample_texture(frags: Fragments, textures: torch.Tensor, vt: torch.Tensor, ft: torch.Tensor) -> torch.Tensor:
    """Bilinear albedo of the nearest face at each pixel: (B, H, W, 3).

    textures: (B, 3, Ht, Wt) in [0, 1]; vt: (T, 2) UVs, v up (OBJ); ft: (F, 3) UV index per
    face corner (faces of one mesh; the packed face index is taken modulo F)."""
    n_faces = ft.shape[0]
    face = frags.pix_to_face[..., 0].clamp(min=0) % n_faces  # (B, H, W)
    corners = vt[ft[face]]  # (B, H, W, 3, 2)
    uv = (frags.bary_coords[..., 0, :, None] * corners).sum(-2)
    grid = torch.stack([uv[..., 0] * 2 - 1, 1 - uv[..., 1] * 2], dim=-1)
    albedo = F.grid_sample(textures, grid, mode="bilinear", padding_mode="border", align_corners=False)
    return albedo.permute(0, 2, 3, 1)


def lambert(frags: Fragments, normals: torch.Tensor, light_dir: torch.Tensor, ambient: torch.Tensor,
            diffuse: torch.Tensor) -> torch.Tensor:
    """Light intensity (B, H, W, 1) = ambient + diffuse * |n . l| of the nearest face.

    normals: (B, F, 3); light_dir: (B, 3) unit, pointing from the surface to the light, in
    the camera frame; ambient, diffuse: (B,). Two-sided (|n . l|): the meshes are closed,
    so only outward faces are seen, and the winding of a face never darkens it."""
    face = frags.pix_to_face[..., 0].clamp(min=0)  # packed: b * F + f
    normal = normals.reshape(-1, 3)[face.reshape(-1)].reshape(*face.shape, 3)
    cosine = (normal * light_dir[:, None, None, :]).sum(-1, keepdim=True).abs()
    return ambient[:, None, None, None] + diffuse[:, None, None, None] * cosine


def composite(colour: torch.Tensor, frags: Fragments, background: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Foreground colour (B, H, W, 3) over background (B, 3, H, W) -> images (B, 3, H, W)
    and the alpha mask (B, 1, H, W) (1 where a face covers the pixel centre)."""
    alpha = (frags.pix_to_face[..., :1] >= 0).to(colour.dtype).permute(0, 3, 1, 2)
    image = alpha * colour.permute(0, 3, 1, 2) + (1 - alpha) * background
    return image, alpha
