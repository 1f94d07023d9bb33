"""Meshes rendered over their images: grey shaded meshes seen by a pinhole camera, blended into
the crops they were predicted from (the training pictures, drawn in ``mocap_hmr.vis.grids``)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mocap_hmr.imageio import denormalize_images
from renderers.rasterize import rasterize
from renderers.shading import face_normals, lambert


@torch.no_grad()
def overlay_meshes(images: torch.Tensor, verts_cam: torch.Tensor, faces: torch.Tensor, focal: float,
                   alpha: float = 0.6) -> torch.Tensor:
    """images (B, 3, S, S) normalized; verts_cam (B, V, 3) in the camera frame (principal point
    at the crop's centre, focal length ``focal`` px) -> uint8 (B, S, S, 3): the meshes, grey and
    lit from the camera, blended in with opacity ``alpha``. Rasterized on the CPU (torch backend)."""
    size = images.shape[-1]
    pictures = denormalize_images(images.float().cpu())
    verts, faces = verts_cam.float().cpu(), faces.cpu()
    frags = rasterize(verts, faces, size, focal, backend="torch")
    n = verts.shape[0]
    light = F.normalize(torch.tensor([0.0, -0.3, -1.0]), dim=0).expand(n, 3)
    shade = lambert(frags, face_normals(verts, faces), light, torch.full((n,), 0.3), torch.full((n,), 0.7))
    mesh = (torch.tensor([0.75, 0.8, 0.95]) * shade).permute(0, 3, 1, 2)
    cover = (frags.pix_to_face[..., :1] >= 0).float().permute(0, 3, 1, 2) * alpha
    blended = pictures * (1 - cover) + mesh * cover
    return (blended * 255).round().byte().permute(0, 2, 3, 1)
