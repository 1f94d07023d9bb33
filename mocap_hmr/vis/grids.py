"""Grids of rendered crops, labelled: the renderer's preview (one pose under many cameras,
textures and backgrounds, like the paper's Figure 2a, then training crops with their visible
2D joints), the body preview (front and side views of three poses), the appearance rows of the
synthetic-gap study and the training pictures (crops with the predicted meshes overlaid)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from matplotlib.figure import Figure

from mocap_hmr.body import BodyModel
from mocap_hmr.data.crop_batch import CropBatch
from mocap_hmr.geometry.cameras import FOCAL_LENGTH, spin_camera_translation
from mocap_hmr.imageio import denormalize_images, read_image
from mocap_hmr.vis.figure import DPI, new_figure, save_png, styled, to_array
from renderers.body_views import PREVIEW_POSES, preview_pose_batch, render_body_views
from renderers.overlay import overlay_meshes

JOINT_COLOUR = "#28dc3c"


def pictures(images: torch.Tensor) -> np.ndarray:
    """Normalized images (B, 3, S, S) -> uint8 pictures (B, S, S, 3)."""
    return (denormalize_images(images.float().cpu()).clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).numpy()


def joint_pixels(batch: CropBatch) -> list[np.ndarray]:
    """The visible 2D joints of each crop of ``batch``, (J_b, 2) pixel (x, y) each."""
    size = batch.images.shape[-1]
    pixels = ((batch.joints2d[..., :2] + 1) * size / 2 - 0.5).cpu().numpy()
    visible = batch.joints2d[..., 2].cpu().numpy() > 0
    return [p[v] for p, v in zip(pixels, visible, strict=True)]


@styled
def image_grid(rows: Sequence[np.ndarray], row_labels: Sequence[str] = (), column_labels: Sequence[str] = (),
               points: Sequence[Sequence[np.ndarray] | None] = (), panel_px: int | None = None,
               title: str = "") -> Figure:
    """One row of panels per entry of ``rows`` (each (C_r, H, W, 3) uint8, rows may differ in C_r),
    ``row_labels`` on the left, ``column_labels`` above the first row, ``points[r]`` (one (P, 2)
    pixel (x, y) array per panel, or None) drawn as dots on row r. Panels are ``panel_px``
    pixels wide (default: the images' width), with a small gap."""
    height, width = rows[0].shape[1:3]
    panel = (panel_px or width) / DPI
    columns = max(len(r) for r in rows)
    label_in = 0.12 * max((len(s) for s in row_labels), default=0) ** 0.8 * 0.9
    fig = new_figure(columns * panel * 1.02 + label_in + 0.05,
                     len(rows) * panel * height / width * 1.02 + 0.22 * bool(column_labels) + 0.3 * bool(title))
    fig.get_layout_engine().set(w_pad=0.01, h_pad=0.01, wspace=0.01, hspace=0.01)
    axes = np.array(fig.subplots(len(rows), columns, squeeze=False))
    for r, row in enumerate(rows):
        for c, ax in enumerate(axes[r]):
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            if c >= len(row):
                ax.set_axis_off()
                continue
            ax.imshow(row[c])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if r < len(points) and points[r] is not None and len(points[r][c]):
                ax.scatter(*points[r][c].T, s=6, color=JOINT_COLOUR, edgecolors="black", linewidths=0.3)
        if r < len(row_labels):
            axes[r, 0].set_ylabel(row_labels[r], rotation=0, ha="right", va="center", labelpad=4)
    for c, label in enumerate(column_labels):
        axes[0, c].set_title(label, fontsize=8, pad=3)
    if title:
        fig.suptitle(title)
    return fig


def save_render_preview(renderer, out_png: str | Path, seed: int = 0, views: int = 12, crops: int = 6) -> Path:
    """Rows of ``views`` renderings of one corpus pose by ``renderer`` (a
    ``renderers.synthetic.SyntheticRenderer``: random viewpoints, crops, textures, lights,
    backgrounds), then a row of ``crops`` random training crops with their visible 2D joints."""
    device = renderer.body.smpl.v_template.device
    generator = torch.Generator(device=device).manual_seed(seed)
    frame = renderer.poses.sample(1, generator)
    cams = renderer.views(views, generator)
    same_pose = pictures(renderer.render_views(frame["pose"].expand(views, -1, -1), frame["betas"].expand(views, -1),
                                               cams["R"], cams["focal"], generator).images)
    columns = max(math.ceil(views / 2), crops)
    rows = [same_pose[i:i + columns] for i in range(0, views, columns)]
    labels = ["one pose,\nmany views"] + [""] * (len(rows) - 1)
    points: list = [None] * len(rows)
    if crops:
        batch = renderer.sample(crops, generator)
        rows.append(pictures(batch.images))
        labels.append("training\ncrops, 2D\njoints")
        points.append(joint_pixels(batch))
    return save_png(image_grid(rows, labels, points=points, panel_px=max(96, rows[0].shape[2])), out_png)


def save_body_preview(body_dir: str | Path, out_png: str | Path, size: int = 256) -> Path:
    """Front (top row) and side (bottom row) views of rest pose, walk and squat-wave, each
    pose with another of the body's skin textures (grey without any)."""
    body_dir = Path(body_dir)
    body = BodyModel(body_dir)
    pose = preview_pose_batch()
    files = sorted((body_dir / "textures").glob("*.png"))
    textures = None
    if files:
        picks = np.linspace(0, len(files) - 1, len(pose)).round().astype(int)
        textures = torch.stack([torch.from_numpy(read_image(files[i])).float() / 255 for i in picks])
    views = render_body_views(body, pose, (0.0, -math.pi / 2), size, textures)  # (2, 3, S, S, 3)
    rows = list((views.clamp(0, 1) * 255).round().byte().numpy())
    return save_png(image_grid(rows, ("front", "side"), ("rest pose", *PREVIEW_POSES)), out_png)


def appearance_rows(path: str | Path, rows: Sequence[tuple[str, torch.Tensor]], zoom: int = 2) -> Path:
    """A row of crops per look: (label, normalized images (C, 3, S, S)) each, its label on the
    left, the crops shown ``zoom`` times their size."""
    images = [pictures(x) for _, x in rows]
    return save_png(image_grid(images, [label for label, _ in rows], panel_px=images[0].shape[2] * zoom), path)


def overlay_picture(images: torch.Tensor, vertices: torch.Tensor, camera: torch.Tensor, faces: torch.Tensor,
                    columns: int = 8) -> np.ndarray:
    """The training picture: up to 2 x ``columns`` crops (images (B, 3, S, S) normalized) with
    their predicted meshes (vertices (B, V, 3) body frame, camera (B, 3) SPIN's [s, tx, ty])
    overlaid, as one uint8 (H, W, 3) grid."""
    keep = min(len(images), 2 * columns)
    size = images.shape[-1]
    verts = vertices[:keep].float() + spin_camera_translation(camera[:keep].float(), size)[:, None]
    panels = overlay_meshes(images[:keep], verts, faces, FOCAL_LENGTH).numpy()
    width = min(columns, keep)
    rows = [panels[i:i + width] for i in range(0, keep, width)]
    return to_array(image_grid(rows, panel_px=max(96, size)))
