"""Training pictures: the batch's crops with the predicted meshes overlaid."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from mocap_hmr.geometry.cameras import FOCAL_LENGTH, spin_camera_translation
from mocap_hmr.imageio import denormalize_images
from renderers.drawing import grid
from renderers.rasterize import rasterize
from renderers.shading import face_normals, lambert


@torch.no_grad()
def overlay_meshes(images: torch.Tensor, vertices: torch.Tensor, camera: torch.Tensor, faces: torch.Tensor,
                   alpha: float = 0.6) -> np.ndarray:
    """images (B, 3, S, S) normalized; vertices (B, V, 3) body frame; camera (B, 3) SPIN's
    [s, tx, ty] -> uint8 (B, S, S, 3): grey shaded meshes seen by SPIN's camera, blended in."""
    size = images.shape[-1]
    pictures = denormalize_images(images.float().cpu())
    verts = (vertices.float() + spin_camera_translation(camera.float(), size)[:, None]).cpu()
    faces = faces.cpu()
    frags = rasterize(verts, faces, size, FOCAL_LENGTH, backend="torch")
    n = verts.shape[0]
    light = F.normalize(torch.tensor([0.0, -0.3, -1.0]), dim=0).expand(n, 3)
    shade = lambert(frags, face_normals(verts, faces), light, torch.full((n,), 0.3), torch.full((n,), 0.7))
    mesh = (torch.tensor([0.75, 0.8, 0.95]) * shade).permute(0, 3, 1, 2)
    cover = (frags.pix_to_face[..., :1] >= 0).float().permute(0, 3, 1, 2) * alpha
    blended = pictures * (1 - cover) + mesh * cover
    return (blended * 255).round().byte().permute(0, 2, 3, 1).numpy()


def overlay_picture(images, vertices, camera, faces, columns: int = 8) -> np.ndarray:
    """Up to 2 x ``columns`` crops with their predicted meshes, as one uint8 (H, W, 3) grid."""
    keep = min(len(images), 2 * columns)
    panels = overlay_meshes(images[:keep], vertices[:keep], camera[:keep], faces)
    return grid(panels, min(columns, keep))
