"""The studies' pictures, drawn with ``renderers.plots`` (numpy only): bar charts of one
metric per variant (grouped when there are several series), curves over a swept value, and
each variant's difference to a reference with its error bar."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mocap_hmr.evaluation.report import PALETTE
from mocap_hmr.imageio import write_png
from renderers import plots
from renderers.drawing import draw_discs

CHAR = 12  # pixels per character of scale-2 text
LINE = 22  # pixels per line of scale-2 text
REFERENCE_COLOUR = (90, 90, 90)


def _wrap(label: str, width: int) -> list[str]:
    """Split a label into lines of at most ``width`` characters after '+' or ' ' where possible."""
    lines, current = [], ""
    for piece in label.replace("+", "+\x00").replace(" ", " \x00").split("\x00"):
        if current and len(current) + len(piece.rstrip()) > width:
            lines.append(current.rstrip())
            current = ""
        current += piece
    return [*lines, current.rstrip()] if current else lines


def _legend(image: np.ndarray, labels: list[str], colours: list, x: int, y: int,
            reference: tuple[str, float] | None = None) -> None:
    """Swatches of the series (when several) and, below them, the dashed reference line's entry."""
    if len(labels) > 1:
        plots.legend(image, labels, colours, x, y)
        y += LINE * len(labels) + 10
    if reference is not None:
        for x0 in (x, x + 11):
            plots.fill_rect(image, x0, y + 8, x0 + 7, y + 10, REFERENCE_COLOUR)
        plots.draw_text(image, f"{reference[0]}: {reference[1]:.1f}", x + 26, y, REFERENCE_COLOUR)


def _legend_width(labels: list[str], reference: tuple[str, float] | None) -> int:
    texts = (labels if len(labels) > 1 else []) + ([f"{reference[0]}: {reference[1]:.1f}"] if reference else [])
    return max((len(t) for t in texts), default=0) * CHAR + 60 if texts else 0


def _group_labels(ax: plots.Axes, groups: Sequence[str], wrap: int) -> None:
    """Each group's label under the axes, centred on its slot (x in [i, i + 1)), wrapped at
    ``wrap`` characters."""
    bottom = ax.box[3]
    for i, group in enumerate(groups):
        for k, line in enumerate(_wrap(group, wrap)):
            plots.draw_text(ax.image, line, float(ax.x_px(i + 0.5)), bottom + 12 + k * LINE, align="center")


def bar_chart(path: str | Path, groups: Sequence[str], series: dict[str, Sequence[float]], title: str, ylabel: str,
              reference: tuple[str, float] | None = None) -> Path:
    """Bars of ``series`` (name -> one value per group, NaN: no bar) side by side in each group,
    the value written at the top of each bar; ``reference`` (label, value) is a dashed line across
    the chart (e.g. the starting model), named in the legend. The y axis starts at 0."""
    names = list(series)
    bar_px = 66  # wide enough for a value like 1234.5 at its top
    slot = max(bar_px * len(names) + 40, CHAR * max(len(line) for g in groups for line in _wrap(g, 12)) + 24)
    wrap = max(slot // CHAR - 2, 6)
    label_lines = max(len(_wrap(g, wrap)) for g in groups)
    left, top = 130, 80
    right = left + slot * len(groups)
    bottom = top + 380
    width = max(right + 40 + _legend_width(names, reference), CHAR * 3 // 2 * len(title) + 40)
    image = np.full((bottom + 60 + LINE * label_lines, width, 3), 255, dtype=np.uint8)
    values = np.array([[float(v) for v in series[n]] for n in names])  # (S, G)
    finite = values[np.isfinite(values)]
    top_value = max([*finite, reference[1] if reference else 0.0, 1e-9])
    plots.draw_text(image, title, width / 2, 12, align="center", scale=3)
    ax = plots.axes(image, (left, top, right, bottom), (0, len(groups)), (0, top_value * 1.05), ylabel=ylabel,
                    xticks=[])
    inner = bar_px * len(names) / slot  # the bars' share of a group's slot
    if reference is not None:
        plots.hline(ax, reference[1], REFERENCE_COLOUR, dashed=True)
    for j in range(len(names)):
        lo = np.arange(len(groups)) + (1 - inner) / 2 + j * inner / len(names)
        hi = lo + inner / len(names)
        keep = np.isfinite(values[j])
        plots.bars(ax, lo[keep], hi[keep], values[j][keep], PALETTE[j % len(PALETTE)])
        for x0, x1, v in zip(lo[keep], hi[keep], values[j][keep], strict=True):
            inside = float(ax.y_px(0) - ax.y_px(v)) > 2 * LINE
            plots.draw_text(image, f"{v:.1f}", float(ax.x_px((x0 + x1) / 2)), float(ax.y_px(v)) + (6 if inside else -4),
                            plots.BACKGROUND if inside else plots.TEXT_COLOUR, align="center",
                            valign="top" if inside else "bottom")
    _group_labels(ax, groups, wrap)
    _legend(image, names, PALETTE[:len(names)], right + 20, top, reference)
    return write_png(path, image)


def curve_chart(path: str | Path, x: Sequence[float], panels: Sequence[tuple[str, dict[str, Sequence[float]]]],
                title: str, xlabel: str, references: Sequence[tuple[str, float] | None] = ()) -> Path:
    """One panel per (ylabel, {series name: values (len(x),)}), stacked: each series as a line
    with its points marked and written; ``references[i]`` (label, value) is a dashed line in panel i."""
    panel_height, left, right = 380, 130, 860
    width = max([right + 40 + _legend_width(list(series), references[i] if i < len(references) else None)
                 for i, (_, series) in enumerate(panels)] + [CHAR * 3 // 2 * len(title) + 40, 1000])
    image = np.full((60 + panel_height * len(panels), width, 3), 255, dtype=np.uint8)
    plots.draw_text(image, title, width / 2, 12, align="center", scale=3)
    xs = np.asarray(x, float)
    pad = 0.05 * (xs.max() - xs.min() or 1.0)
    for i, (ylabel, series) in enumerate(panels):
        reference = references[i] if i < len(references) else None
        values = np.array([[float(v) for v in s] for s in series.values()])
        finite = [*values[np.isfinite(values)], *([reference[1]] if reference else [])]
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
        margin = 0.15 * (hi - lo or abs(hi) or 1.0)
        top = 90 + i * panel_height
        box = (left, top, right, top + panel_height - 110)
        ax = plots.axes(image, box, (xs.min() - pad, xs.max() + pad), (lo - margin, hi + margin), xlabel=xlabel,
                        ylabel=ylabel, xticks=xs)
        if reference is not None:
            plots.hline(ax, reference[1], REFERENCE_COLOUR, dashed=True)
        for j, v in enumerate(series.values()):
            colour = PALETTE[j % len(PALETTE)]
            v = np.asarray(v, float)
            plots.polyline(ax, xs, v, colour, radius=1.5)
            keep = np.isfinite(v)
            draw_discs(image, np.stack([ax.x_px(xs[keep]), ax.y_px(v[keep])], -1), colour, radius=5)
            for xv, yv in zip(xs[keep], v[keep], strict=True):
                plots.draw_text(image, f"{yv:.1f}", float(ax.x_px(xv)), float(ax.y_px(yv)) - 10, colour,
                                align="center", valign="bottom")
        _legend(image, list(series), PALETTE[:len(series)], right + 20, top, reference)
    return write_png(path, image)


VERDICT_COLOURS = {"lower": (46, 139, 87), "higher": (205, 80, 60), "tied": (150, 150, 150)}


def difference_chart(path: str | Path, labels: Sequence[str], differences: Sequence[tuple[float, float]],
                     verdicts: Sequence[str], title: str, ylabel: str) -> Path:
    """Each variant's difference to a reference, (mean, standard error) per label (mm, from
    ``Scores.delta``): a bar from 0 to the mean with a whisker of ± 2 standard errors, coloured
    by its verdict (``Scores.verdict``: lower green, higher red, tied grey); the value written
    past the whisker's end. The differences are what the studies decide on, a few mm that
    absolute bars starting at 0 cannot show."""
    mean = np.array([d for d, _ in differences], float)
    half = 2 * np.array([e for _, e in differences], float)
    slot = max(110, CHAR * max(len(line) for g in labels for line in _wrap(g, 12)) + 24)
    wrap = max(slot // CHAR - 2, 6)
    left, top = 130, 80
    right, bottom = left + slot * len(labels), top + 380
    image = np.full((bottom + 60 + LINE * max(len(_wrap(g, wrap)) for g in labels), max(right + 40,
                     CHAR * 3 // 2 * len(title) + 40), 3), 255, dtype=np.uint8)
    lo, hi = min(0.0, *(mean - half)), max(0.0, *(mean + half))
    span = hi - lo or 1.0
    plots.draw_text(image, title, image.shape[1] / 2, 12, align="center", scale=3)
    ax = plots.axes(image, (left, top, right, bottom), (0, len(labels)), (lo - 0.12 * span, hi + 0.12 * span),
                    ylabel=ylabel, xticks=[])
    plots.hline(ax, 0.0, plots.AXIS_COLOUR, width=2)
    colours = [VERDICT_COLOURS[v] for v in verdicts]
    centre = np.arange(len(labels)) + 0.5
    plots.bars(ax, centre - 0.25, centre + 0.25, mean, colours)
    for x, m, h in zip(centre, mean, half, strict=True):
        col = float(ax.x_px(x))
        y0, y1 = float(ax.y_px(m + h)), float(ax.y_px(m - h))
        plots.fill_rect(image, col - 1, y0, col + 1, y1, plots.TEXT_COLOUR)
        for y in (y0, y1):
            plots.fill_rect(image, col - 8, y - 1, col + 8, y + 1, plots.TEXT_COLOUR)
        above = m >= 0
        plots.draw_text(image, f"{m:+.1f} +/- {h / 2:.1f}", col, y0 - 4 if above else y1 + 6, align="center",
                        valign="bottom" if above else "top")
    _group_labels(ax, labels, wrap)
    return write_png(path, image)
