"""The before/after video of ``smooth --video``: the input and the refined motion side by side
on the body in use (rendered by ``renderers.body_views.render_motion_pair``: one fixed camera,
so the input's jitter shows as shaking, not as reframing), each half titled, the jitter
measures and the frame number written under them."""

from __future__ import annotations

import math

import numpy as np
import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.vis.figure import pixel_figure, styled, to_array
from renderers.body_views import render_motion_pair

MARGIN = 30  # pixels above (the titles) and below (caption, frame number) the renders
VIDEO_DPI = 100  # text of a 256-pixel half: 11 px per 8 pt


@styled
def side_by_side_frames(body: BodyModel, before: torch.Tensor, after: torch.Tensor, labels: tuple[str, str],
                        caption: str, size: int = 192, yaw: float = math.radians(-25)) -> np.ndarray:
    """before, after: (N, 24, 3, 3) rotations of the same frames -> uint8 frames (N, size + 2 *
    MARGIN, 2 * size, 3): the input on the left, the refined motion on the right, each half
    titled by ``labels``, ``caption`` and the frame number under them. An unobserved (NaN)
    input frame shows the last observed one."""
    renders = render_motion_pair(body, before, after, size, yaw).numpy()  # (2, N, S, S, 3)
    n, height = renders.shape[1], size + 2 * MARGIN
    fig = pixel_figure(2 * size, height, dpi=VIDEO_DPI)
    shown = []
    for side, label in enumerate(labels):
        ax = fig.add_axes((side / 2, MARGIN / height, 0.5, size / height))
        ax.set_axis_off()
        shown.append(ax.imshow(renders[side, 0]))
        fig.text((side + 0.5) / 2, 1 - 0.5 * MARGIN / height, label, ha="center", va="center", fontsize=8)
    fig.text(0.5, 0.68 * MARGIN / height, caption, ha="center", va="center", fontsize=7)
    counter = fig.text(1 - 4 / (2 * size), 0.24 * MARGIN / height, "", ha="right", va="center", fontsize=6,
                       color="0.45")
    frames = np.empty((n, height, 2 * size, 3), np.uint8)
    for t in range(n):
        for side, image in enumerate(shown):
            image.set_data(renders[side, t])
        counter.set_text(f"frame {t}")
        frames[t] = to_array(fig)
    return frames
