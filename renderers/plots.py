"""Plots as uint8 pictures (numpy only): line plots, bar charts and histograms on labelled
axes, with a 5x7 bitmap font (printable ASCII) for titles, tick labels and legends."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from renderers.drawing import draw_discs

AXIS_COLOUR = (160, 160, 160)
GRID_COLOUR = (232, 232, 232)
TEXT_COLOUR = (30, 30, 30)
BACKGROUND = (255, 255, 255)

# 5x7 glyphs of the characters 32 (space) to 126 (~): five columns each, as hex bytes, bit 0 = top row
# (the classic HD44780-style LCD font).
_GLYPHS = """
0000000000 00005F0000 0007000700 147F147F14 242A7F2A12 2313086462 3649552250 0005030000
001C224100 0041221C00 082A1C2A08 08083E0808 0050300000 0808080808 0060600000 2010080402
3E5149453E 00427F4000 4261514946 2141454B31 1814127F10 2745454539 3C4A494930 0171090503
3649494936 064949291E 0036360000 0056360000 0008142241 1414141414 4122140800 0201510906
324979413E 7E1111117E 7F49494936 3E41414122 7F4141221C 7F49494941 7F09090101 3E41415132
7F0808087F 00417F4100 2040413F01 7F08142241 7F40404040 7F0204027F 7F0408107F 3E4141413E
7F09090906 3E4151215E 7F09192946 4649494931 01017F0101 3F4040403F 1F2040201F 7F2018207F
6314081463 0304780403 6151494543 00007F4141 0204081020 41417F0000 0402010204 4040404040
0001020400 2054545478 7F48444438 3844444420 384444487F 3854545418 087E090102 081454543C
7F08040478 00447D4000 2040443D00 007F102844 00417F4000 7C04180478 7C08040478 3844444438
7C14141408 081414187C 7C08040408 4854545420 043F444020 3C4040207C 1C2040201C 3C4030403C
4428102844 0C5050503C 4464544C44 0008364100 00007F0000 0041360800 0201020402
""".split()
# Lowercase letters that reach below the line, as rows of 9 (the others use the top 7).
_DESCENDERS = {
    "g": "..... ..... .#### #...# #...# #...# .#### ....# .###.",
    "j": "...#. ..... ..##. ...#. ...#. ...#. ...#. #..#. .##..",
    "p": "..... ..... ####. #...# #...# #...# ####. #.... #....",
    "q": "..... ..... .#### #...# #...# #...# .#### ....# ....#",
    "y": "..... ..... #...# #...# #...# #...# .#### ....# .###.",
}
GLYPH_HEIGHT = 9  # pixels at scale 1: 7 above the line, 2 below; glyphs are 5 wide, 6 apart


def _glyph(char: str) -> np.ndarray:
    """(9, 5) bool; characters outside printable ASCII are drawn as '?'."""
    if char in _DESCENDERS:
        return np.array([[c == "#" for c in row] for row in _DESCENDERS[char].split()])
    code = ord(char) - 32 if " " <= char <= "~" else ord("?") - 32
    columns = np.frombuffer(bytes.fromhex(_GLYPHS[code]), dtype=np.uint8)
    return (columns[None, :] >> np.arange(GLYPH_HEIGHT)[:, None]) & 1 == 1


def text_mask(text: str, scale: int = 1) -> np.ndarray:
    """(9 * scale, (6 * len(text) - 1) * scale) bool: the pixels of one line of ``text``."""
    if not text:
        return np.zeros((GLYPH_HEIGHT * scale, 0), dtype=bool)
    row = np.concatenate([np.pad(_glyph(c), ((0, 0), (0, 1))) for c in text], axis=1)[:, :-1]
    return row.repeat(scale, axis=0).repeat(scale, axis=1)


def draw_text(image: np.ndarray, text: str, x: float, y: float, colour=TEXT_COLOUR, scale: int = 2,
              align: str = "left", valign: str = "top", vertical: bool = False, background=None) -> None:
    """Write one line into ``image`` (H, W, 3), clipped to it. (x, y) is the anchor point: ``align``
    left | center | right and ``valign`` top | middle | bottom say where it sits on the (possibly
    rotated) text box. ``vertical`` turns the text 90 degrees anticlockwise (reads bottom to top);
    a ``background`` colour fills the box (plus ``scale`` px around) first."""
    mask = text_mask(text, scale)
    if vertical:
        mask = np.rot90(mask)
    h, w = mask.shape
    left = int(round(x - {"left": 0, "center": w / 2, "right": w}[align]))
    top = int(round(y - {"top": 0, "middle": h / 2, "bottom": h}[valign]))
    if background is not None:
        fill_rect(image, left - scale, top - scale, left + w + scale, top + h + scale, background)
    rows, cols = np.nonzero(mask)
    rows, cols = rows + top, cols + left
    keep = (rows >= 0) & (rows < image.shape[0]) & (cols >= 0) & (cols < image.shape[1])
    image[rows[keep], cols[keep]] = colour


def fill_rect(image: np.ndarray, x0: float, y0: float, x1: float, y1: float, colour) -> None:
    """Fill the pixels with x in [x0, x1) and y in [y0, y1) (any order of the corners), clipped."""
    (x0, x1), (y0, y1) = sorted((x0, x1)), sorted((y0, y1))
    height, width = image.shape[:2]
    c0, c1 = np.clip([int(round(x0)), int(round(x1))], 0, width)
    r0, r1 = np.clip([int(round(y0)), int(round(y1))], 0, height)
    image[r0:r1, c0:c1] = colour


def _draw_polyline(image: np.ndarray, x: np.ndarray, y: np.ndarray, colour, radius: float = 1.0) -> None:
    """Pixel coordinates x, y (N,): consecutive finite points joined by discs of ``radius``."""
    for i in range(len(x) - 1):
        if np.isfinite(y[i]) and np.isfinite(y[i + 1]):
            steps = int(np.ceil(np.hypot(x[i + 1] - x[i], y[i + 1] - y[i]) * 2)) + 1
            t = np.linspace(0, 1, steps)[:, None]
            draw_discs(image, np.array([x[i], y[i]]) + t * np.array([x[i + 1] - x[i], y[i + 1] - y[i]]),
                       colour, radius=radius)


def _nice_step(lo: float, hi: float, count: int) -> float:
    """The smallest 1, 2 or 5 x 10^k at least (hi - lo) / count."""
    raw = max(hi - lo, 1e-12) / count
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))


def nice_range(lo: float, hi: float, count: int = 5) -> np.ndarray:
    """(T,) evenly spaced round values (1, 2 or 5 x 10^k apart, about ``count`` steps) from at
    or below ``lo`` to at or above ``hi``: ticks whose ends make axis limits."""
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    step = _nice_step(lo, hi, count)
    return nice_ticks(math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step, step=step)


def nice_ticks(lo: float, hi: float, count: int = 5, step: float | None = None) -> np.ndarray:
    """(T,) round values (multiples of 1, 2 or 5 x 10^k, or of ``step``) in [lo, hi], about ``count`` steps apart."""
    step = step or _nice_step(lo, hi, count)
    ticks = np.arange(math.ceil(lo / step - 1e-9), math.floor(hi / step + 1e-9) + 1) * step
    return np.round(ticks, max(0, -math.floor(math.log10(step))) + 1)


def log_ticks(lo: float, hi: float) -> np.ndarray:
    """(T,) ticks of a log axis covering [lo, hi] (both > 0): the powers of ten from at or below
    ``lo`` to at or above ``hi`` (at least one decade), with 2 and 5 x 10^k too over two decades or less."""
    first = math.floor(math.log10(lo) + 1e-9)
    last = max(math.ceil(math.log10(hi) - 1e-9), first + 1)
    powers = 10.0 ** np.arange(first, last + 1)
    if last - first > 2:
        return powers
    return np.concatenate([(powers[:-1, None] * [1, 2, 5]).ravel(), powers[-1:]])


def tick_label(value: float) -> str:
    """Short text of a tick value: 12, 0.25, 1e-05."""
    return f"{value:.4g}".replace("e-0", "e-").replace("e+0", "e")


@dataclass
class Axes:
    """A plotting area of ``image``: data x in ``xlim`` and y in ``ylim`` map to the pixel box
    (left, top, right, bottom). With ``log_y``, ``ylim`` holds log10 of the y limits."""

    image: np.ndarray
    box: tuple[int, int, int, int]
    xlim: tuple[float, float]
    ylim: tuple[float, float]
    log_y: bool = False

    def x_px(self, x) -> np.ndarray:
        """Data x (...,) -> pixel column (...,)."""
        left, _, right, _ = self.box
        return left + (np.asarray(x, float) - self.xlim[0]) / (self.xlim[1] - self.xlim[0]) * (right - left)

    def y_px(self, y) -> np.ndarray:
        """Data y (...,) -> pixel row (...,); non-positive y is NaN on a log axis."""
        y = np.asarray(y, float)
        if self.log_y:
            y = np.log10(np.where(y > 0, y, np.nan))
        _, top, _, bottom = self.box
        return bottom - (y - self.ylim[0]) / (self.ylim[1] - self.ylim[0]) * (bottom - top)


def axes(image: np.ndarray, box: tuple[int, int, int, int], xlim: tuple[float, float], ylim: tuple[float, float],
         *, title: str = "", xlabel: str = "", ylabel: str = "", log_y: bool = False, xticks=None) -> Axes:
    """Draw a frame with grid lines, tick labels (scale 2) and labels around ``box`` (left, top,
    right, bottom) and return its ``Axes``. ``ylim`` are the data's limits, widened to round ticks
    (``nice_range``, or ``log_ticks`` with ``log_y``, then > 0); ``xticks`` (T,) default to round
    values in ``xlim``, which is kept as given."""
    yticks = log_ticks(*ylim) if log_y else nice_range(*ylim)
    ylim = (math.log10(yticks[0]), math.log10(yticks[-1])) if log_y else (yticks[0], yticks[-1])
    if xlim[1] <= xlim[0]:
        xlim = (xlim[0] - 0.5, xlim[0] + 0.5)
    ax = Axes(image, box, tuple(map(float, xlim)), tuple(map(float, ylim)), log_y)
    xticks = nice_ticks(*xlim, count=8) if xticks is None else np.asarray(xticks, float)
    left, top, right, bottom = box
    ytick_labels = [tick_label(value) for value in yticks]
    for label, row in zip(ytick_labels, ax.y_px(yticks), strict=True):
        fill_rect(image, left, row, right, row + 1, GRID_COLOUR)
        fill_rect(image, left - 5, row, left, row + 1, AXIS_COLOUR)
        draw_text(image, label, left - 8, row, align="right", valign="middle")
    for value, col in zip(xticks, ax.x_px(xticks), strict=True):
        fill_rect(image, col, top, col + 1, bottom, GRID_COLOUR)
        fill_rect(image, col, bottom, col + 1, bottom + 5, AXIS_COLOUR)
        draw_text(image, tick_label(value), col, bottom + 9, align="center")
    for x0, y0, x1, y1 in ((left, top, right + 1, top + 1), (left, bottom, right + 1, bottom + 1),
                           (left, top, left + 1, bottom), (right, top, right + 1, bottom)):
        fill_rect(image, x0, y0, x1, y1, AXIS_COLOUR)
    draw_text(image, title, (left + right) / 2, top - 10, align="center", valign="bottom")
    draw_text(image, xlabel, (left + right) / 2, bottom + 32, align="center")
    label_width = max(text_mask(label, 2).shape[1] for label in ytick_labels)
    draw_text(image, ylabel, left - 20 - label_width, (top + bottom) / 2, align="right", valign="middle",
              vertical=True)
    return ax


def bars(ax: Axes, left, right, height, colours, base: float = 0.0) -> None:
    """Bars from ``base`` to ``height`` over [left, right) in data units, all (B,); ``colours``
    one (3,) colour or (B, 3). Bars wider than 3 px keep a 1 px gap on their right."""
    left_px, right_px = ax.x_px(left), ax.x_px(right)
    top_px, base_px = ax.y_px(height), ax.y_px(base)
    colours = np.broadcast_to(np.asarray(colours, dtype=np.uint8), (len(left_px), 3))
    for x0, x1, y, colour in zip(left_px, right_px, top_px, colours, strict=True):
        fill_rect(ax.image, x0, y, x1 - (x1 - x0 > 3), base_px, colour)


def polyline(ax: Axes, x, y, colour, radius: float = 1.0) -> None:
    """Data points x, y (N,) joined by lines; NaN (or, on a log axis, non-positive) y leaves gaps."""
    _draw_polyline(ax.image, ax.x_px(x), ax.y_px(y), colour, radius)


def _dashes(start: int, stop: int, dashed: bool) -> list[tuple[int, int]]:
    """Pixel spans [a, b) covering [start, stop): one, or 7 px dashes every 12 px."""
    return [(a, min(a + 7, stop)) for a in range(start, stop, 12)] if dashed else [(start, stop)]


def hline(ax: Axes, y: float, colour, dashed: bool = False, width: int = 2) -> None:
    """A horizontal line across the axes at data ``y``."""
    left, _, right, _ = ax.box
    row = float(ax.y_px(y))
    for x0, x1 in _dashes(left, right, dashed):
        fill_rect(ax.image, x0, row - width / 2, x1, row + width / 2, colour)


def vline(ax: Axes, x: float, colour, dashed: bool = False, width: int = 2) -> None:
    """A vertical line across the axes at data ``x``."""
    _, top, _, bottom = ax.box
    col = float(ax.x_px(x))
    for y0, y1 in _dashes(top, bottom, dashed):
        fill_rect(ax.image, col - width / 2, y0, col + width / 2, y1, colour)


def legend(image: np.ndarray, labels: list[str], colours: list, x: int, y: int, scale: int = 2) -> None:
    """Labels under each other from (x, y), top left, each after a swatch of its colour."""
    line = (GLYPH_HEIGHT + 2) * scale
    for i, (label, colour) in enumerate(zip(labels, colours, strict=True)):
        fill_rect(image, x, y + i * line + scale, x + 8 * scale, y + i * line + 6 * scale, colour)
        draw_text(image, label, x + 11 * scale, y + i * line, scale=scale)


def line_plot(series: list[np.ndarray], colours: list[tuple[int, int, int]], labels: list[str], *, title: str = "",
              xlabel: str = "", ylabel: str = "", width: int = 900, height: int = 340) -> np.ndarray:
    """(height, width, 3) uint8: each series (N,) over its index 0..N-1 as a polyline on labelled
    axes sharing one y range, with a legend at the top right; NaN values leave gaps."""
    image = np.full((height, width, 3), 255, dtype=np.uint8)
    finite = np.concatenate([s[np.isfinite(s)] for s in series])
    ylim = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    box = (100, 40, width - 20, height - 50)
    ax = axes(image, box, (0, max(len(s) for s in series) - 1), ylim, title=title, xlabel=xlabel, ylabel=ylabel)
    for curve, colour in zip(series, colours, strict=True):
        polyline(ax, np.arange(len(curve)), curve, colour)
    legend_width = 22 + max(text_mask(label, 2).shape[1] for label in labels)
    legend(image, labels, colours, box[2] - 12 - legend_width, box[1] + 8)  # top right
    return image
