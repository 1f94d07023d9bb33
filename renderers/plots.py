"""Line plots as uint8 pictures (numpy only): series over time, one colour each."""

from __future__ import annotations

import numpy as np

from renderers.drawing import draw_discs

AXIS_COLOUR = (160, 160, 160)


def line_plot(series: list[np.ndarray], colours: list[tuple[int, int, int]], width: int = 900, height: int = 300,
              margin: int = 20) -> np.ndarray:
    """(height, width, 3) uint8: each series (N,) as a polyline, sharing one x (index) and one
    y range; a grey frame around the plotting area. NaN values leave gaps."""
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    image[margin, margin:width - margin] = image[height - margin, margin:width - margin] = AXIS_COLOUR
    image[margin:height - margin, margin] = image[margin:height - margin, width - margin] = AXIS_COLOUR
    values = np.concatenate([s[np.isfinite(s)] for s in series])
    lo, hi = (values.min(), values.max()) if values.size else (0.0, 1.0)
    span = max(hi - lo, 1e-9)
    for curve, colour in zip(series, colours, strict=True):
        x = margin + np.arange(len(curve)) * (width - 2 * margin) / max(len(curve) - 1, 1)
        y = height - margin - (curve - lo) / span * (height - 2 * margin)
        for i in range(len(curve) - 1):
            if np.isfinite(y[i]) and np.isfinite(y[i + 1]):
                steps = int(np.ceil(np.hypot(x[i + 1] - x[i], y[i + 1] - y[i]) * 2)) + 1
                t = np.linspace(0, 1, steps)[:, None]
                draw_discs(image, np.array([x[i], y[i]]) + t * np.array([x[i + 1] - x[i], y[i + 1] - y[i]]),
                           colour, radius=1.0)
    return image
