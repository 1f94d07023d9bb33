"""Before/after video frames of a smoothed motion: the input and the refined poses side by
side on the body in use, with the jitter measures written on them.

Both halves are seen by one fixed camera for the whole sequence (in the frame of the input's
first root rotation, so that the body stands upright and faces the camera, turned by ``yaw``,
at the first frame whether its poses are in a Y-up world frame or in an image model's camera
frame; framed on the extent of every frame of both motions), so every movement on screen is
the motion's own: the jitter of the input shows as shaking, not as reframing.
The root translation is left out (the pelvis stays put), so the poses are compared alone.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.filters import last_observed
from mocap_hmr.geometry.cameras import FLIP, tait_bryan
from renderers.body_preview import shade
from renderers.plots import draw_text
from renderers.rasterize import rasterize

DISTANCE = 10.0
TEXT, MARGIN = (30, 30, 30), 30


def _vertices(body: BodyModel, rotmat: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """(N, 24, 3, 3) -> (N, V, 3) posed vertices, no translation."""
    with torch.no_grad():
        return torch.cat([body(rotmat[i:i + chunk]).vertices for i in range(0, len(rotmat), chunk)])


def hold_unobserved(rotmat: torch.Tensor) -> torch.Tensor:
    """(N, 24, 3, 3) with NaN frames -> each NaN frame replaced by the last finite one before
    it (the first finite one at the start); all identities when none is finite."""
    finite = torch.isfinite(rotmat.flatten(1)).all(1)
    if not bool(finite.any()):
        return torch.eye(3).expand_as(rotmat).clone()
    return rotmat[last_observed(finite)]


def side_by_side_frames(body: BodyModel, before: torch.Tensor, after: torch.Tensor, labels: tuple[str, str],
                        caption: str, size: int = 192, yaw: float = math.radians(-25)) -> np.ndarray:
    """before, after: (N, 24, 3, 3) rotations of the same frames -> uint8 frames (N, size + 2 *
    MARGIN, 2 * size, 3): the input on the left, the refined motion on the right, each half
    titled by ``labels``, ``caption`` and the frame number under them. An unobserved (NaN)
    input frame shows the last observed one."""
    n = before.shape[0]
    before = hold_unobserved(before)
    to_cam = FLIP @ tait_bryan(torch.tensor([yaw]), torch.zeros(1), torch.zeros(1))[0] @ before[0, 0].T
    verts = torch.stack([_vertices(body, before), _vertices(body, after)]) @ to_cam.T  # (2, N, V, 3)
    lo, hi = verts.flatten(0, 2).amin(0), verts.flatten(0, 2).amax(0)
    extent = float((hi - lo)[:2].max())
    cam = verts - (lo + hi) / 2 + torch.tensor([0.0, 0.0, DISTANCE])
    focal = torch.full((2 * n, 2), 0.9 * size * DISTANCE / extent)
    principal = torch.full((2 * n, 2), size / 2)
    frames = np.full((n, size + 2 * MARGIN, 2 * size, 3), 255, np.uint8)
    flat = cam.flatten(0, 1)
    for first in range(0, 2 * n, 32):
        part = flat[first:first + 32]
        frags = rasterize(part, body.faces, size, focal[first:first + 32], principal[first:first + 32])
        images = (shade(part, body.faces, frags, None, None, None).clamp(0, 1) * 255).round().byte().numpy()
        for k, image in enumerate(images, start=first):
            side, t = divmod(k, n)
            frames[t, MARGIN:MARGIN + size, side * size:(side + 1) * size] = image
    for t in range(n):
        for side, label in enumerate(labels):
            draw_text(frames[t], label, side * size + size / 2, 8, TEXT, scale=1, align="center")
        draw_text(frames[t], caption, size, size + MARGIN + 6, TEXT, scale=1, align="center")
        draw_text(frames[t], f"frame {t}", 2 * size - 4, size + MARGIN + 18, (120, 120, 120), scale=1, align="right")
    return frames
