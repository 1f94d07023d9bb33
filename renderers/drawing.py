"""Drawing into uint8 pictures (numpy, no image library): discs and grids of panels."""

from __future__ import annotations

import numpy as np


def draw_discs(image: np.ndarray, points: np.ndarray, colour, radius: float) -> None:
    """Paint discs of ``radius`` px centred on ``points`` (P, 2) (x, y) into ``image`` (H, W, 3)."""
    r = int(np.ceil(radius))
    dy, dx = np.mgrid[-r:r + 1, -r:r + 1]
    inside = dx**2 + dy**2 <= radius**2 + 0.5
    offsets = np.stack([dx[inside], dy[inside]], -1)  # (K, 2)
    pixels = (np.round(points)[:, None, :] + offsets).reshape(-1, 2).astype(int)
    keep = (pixels[:, 0] >= 0) & (pixels[:, 0] < image.shape[1]) & (pixels[:, 1] >= 0) & (pixels[:, 1] < image.shape[0])
    image[pixels[keep, 1], pixels[keep, 0]] = colour


def grid(panels: np.ndarray, columns: int, gap: int = 2) -> np.ndarray:
    """(N, H, W, 3) uint8 panels in rows of ``columns``, white gaps between them."""
    n, h, w, _ = panels.shape
    rows = -(-n // columns)
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap, 3), 255, dtype=np.uint8)
    for i, panel in enumerate(panels):
        r, c = divmod(i, columns)
        out[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = panel
    return out
