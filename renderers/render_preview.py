"""The renderer's picture: one pose under many cameras, textures and backgrounds (like the
paper's Figure 2a), then random training crops with their visible 2D joints drawn on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mocap_hmr.data.crop_batch import CropBatch
from mocap_hmr.imageio import denormalize_images
from renderers.drawing import draw_discs, grid
from renderers.synthetic import SyntheticRenderer

JOINT_COLOUR = (40, 220, 60)


def to_pictures(batch: CropBatch, with_joints: bool) -> np.ndarray:
    """(B, S, S, 3) uint8 pictures of a batch (normalization undone), visible joints as dots."""
    images = (denormalize_images(batch.images) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy()
    if with_joints:
        size = images.shape[1]
        pixels = ((batch.joints2d[..., :2] + 1) * size / 2 - 0.5).cpu().numpy()
        visible = batch.joints2d[..., 2].cpu().numpy() > 0
        for image, points, seen in zip(images, pixels, visible, strict=True):
            draw_discs(image, points[seen], JOINT_COLOUR, radius=max(1.0, size / 100))
    return images


def save_render_preview(renderer: SyntheticRenderer, out_png: str | Path, seed: int = 0, views: int = 12,
                        crops: int = 6) -> Path:
    """Rows of ``views`` renderings of one corpus pose (random viewpoints, crops, textures,
    lights, backgrounds), then a row of ``crops`` random training crops with 2D joints."""
    from mocap_hmr.imageio import write_png

    device = renderer.body.smpl.v_template.device
    generator = torch.Generator(device=device).manual_seed(seed)
    frame = renderer.poses.sample(1, generator)
    cams = renderer.cameras.sample(views, generator)
    same_pose = renderer.render_views(frame["pose"].expand(views, -1, -1), frame["betas"].expand(views, -1),
                                      cams["R"], cams["focal"], generator)
    columns = views // 2
    pictures = [to_pictures(same_pose, with_joints=False)]
    if crops:
        pictures.append(to_pictures(renderer.render(crops, generator), with_joints=True))
        columns = max(columns, crops)
    panels = np.concatenate(pictures)
    return write_png(out_png, grid(panels, columns))
