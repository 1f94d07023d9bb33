"""Front and side views of a body model in rest pose and two SMPL poses, as one PNG."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mocap_hmr.body import SMPL_JOINT_NAMES, BodyModel
from mocap_hmr.geometry.cameras import FLIP, tait_bryan
from mocap_hmr.imageio import read_image, write_png
from renderers.rasterize import rasterize
from renderers.shading import composite, face_normals, lambert, sample_texture

_J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}

# Two SMPL poses written joint by joint (axis-angle, radians), in SMPL's conventions.
PREVIEW_POSES = {
    "walk": {
        "left_hip": (-0.5, 0, 0), "right_hip": (0.35, 0, 0), "left_knee": (0.25, 0, 0),
        "right_knee": (0.8, 0, 0), "left_shoulder": (0.3, 0, -1.2), "right_shoulder": (-0.3, 0, 1.2),
        "left_elbow": (0, -0.5, 0), "right_elbow": (0, 0.9, 0), "spine1": (0.05, 0.1, 0),
    },
    "squat-wave": {
        "left_hip": (-1.4, 0, -0.2), "right_hip": (-1.4, 0, 0.2), "left_knee": (1.9, 0, 0),
        "right_knee": (1.9, 0, 0), "left_ankle": (-0.3, 0, 0), "right_ankle": (-0.3, 0, 0),
        "spine1": (0.35, 0, 0), "left_shoulder": (0, -0.6, -1.0), "left_elbow": (0, -1.6, 0),
        "right_shoulder": (0, 0, -0.7), "right_elbow": (0, 0, -1.5), "neck": (0.2, 0, 0),
    },
}


def preview_pose_batch() -> torch.Tensor:
    """(3, 24, 3): rest pose, then the poses of ``PREVIEW_POSES``."""
    pose = torch.zeros(1 + len(PREVIEW_POSES), 24, 3)
    for i, joints in enumerate(PREVIEW_POSES.values(), start=1):
        for name, value in joints.items():
            pose[i, _J[name]] = torch.tensor(value)
    return pose


def shade(verts_cam, faces, frags, textures, vt, ft):
    """Lambert + ambient shading, textured (textures: (N, Ht, Wt, 3) in [0, 1], or None for
    grey) -> (N, H, W, 3) in [0, 1] over white."""
    n = verts_cam.shape[0]
    if textures is not None:
        albedo = sample_texture(frags, textures.permute(0, 3, 1, 2), vt, ft)
    else:
        albedo = torch.full((*frags.pix_to_face.shape[:3], 3), 0.75)
    light = F.normalize(torch.tensor([-0.4, -0.5, -1.0]), dim=0).expand(n, 3)  # from the camera, above left
    shade = lambert(frags, face_normals(verts_cam, faces), light, torch.full((n,), 0.35), torch.full((n,), 0.65))
    image, _ = composite(albedo * shade, frags, torch.ones(n, 3, *frags.pix_to_face.shape[1:3]))
    return image.permute(0, 2, 3, 1)


def render_body_views(body: BodyModel, pose: torch.Tensor, yaws: tuple[float, ...],
                      size: int = 256, textures: torch.Tensor | None = None) -> torch.Tensor:
    """Render each pose from each yaw. pose: (P, 24, 3); textures: (P, Ht, Wt, 3) in [0, 1]
    or None (grey) -> images (len(yaws), P, size, size, 3) in [0, 1]."""
    verts = body(pose).vertices.detach()  # (P, V, 3)
    rows = []
    for yaw in yaws:
        to_cam = FLIP @ tait_bryan(torch.tensor([yaw]), torch.zeros(1), torch.zeros(1))[0]  # turned by yaw
        cam = verts @ to_cam.T
        lo, hi = cam.amin(1, keepdim=True), cam.amax(1, keepdim=True)
        extent = (hi - lo)[..., :2].amax(-1, keepdim=True)  # (P, 1, 1)
        distance = 10.0
        cam = cam - (lo + hi) / 2 + torch.tensor([0.0, 0.0, distance])
        focal = (0.9 * size * distance / extent[:, 0]).expand(-1, 2)
        principal = torch.full((len(pose), 2), size / 2)
        frags = rasterize(cam, body.faces, size, focal, principal)
        vt = ft = None
        if textures is not None and body.uv is not None:
            vt, ft = torch.as_tensor(body.uv[0]).float(), torch.as_tensor(body.uv[1]).long()
        rows.append(shade(cam, body.faces, frags, textures if vt is not None else None, vt, ft))
    return torch.stack(rows)


def save_body_preview(body_dir: str | Path, out_png: str | Path, size: int = 256) -> Path:
    """Front (top row) and side (bottom row) views of rest pose, walk and squat-wave, each
    pose with another of the body's skin textures."""
    body_dir = Path(body_dir)
    body = BodyModel(body_dir)
    pose = preview_pose_batch()
    files = sorted((body_dir / "textures").glob("*.png"))
    textures = None
    if files:
        picks = np.linspace(0, len(files) - 1, len(pose)).round().astype(int)
        textures = torch.stack([torch.from_numpy(read_image(files[i])).float() / 255 for i in picks])
    views = render_body_views(body, pose, (0.0, -math.pi / 2), size, textures)
    grid = views.permute(0, 2, 1, 3, 4).reshape(views.shape[0] * size, -1, 3)
    return write_png(out_png, (grid.clamp(0, 1) * 255).round().to(torch.uint8).numpy().astype(np.uint8))
