"""The house style of every picture and the canvas it is drawn on: a ``matplotlib.figure.Figure``
on its own Agg canvas (no pyplot, no backend switch), the style applied with
``matplotlib.rc_context`` only while a picture is built and drawn (``styled``), so the
process's rcParams are left as they were. Pictures come out as uint8 (H, W, 3) arrays or PNG files."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import matplotlib
import numpy as np
from cycler import cycler
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mocap_hmr.imageio import write_png

DPI = 150
# matplotlib's tab10: series colours, in order
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf"]
BETTER, WORSE, NEUTRAL, REFERENCE = "#2e8b57", "#cd503c", "#969696", "#505050"
STYLE = {
    "font.family": "DejaVu Sans", "font.size": 8.5, "axes.titlesize": 9.5, "axes.labelsize": 8.5,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "legend.fontsize": 8, "figure.titlesize": 10.5,
    "legend.frameon": False, "axes.spines.top": False, "axes.spines.right": False, "axes.linewidth": 0.8,
    "axes.grid": True, "axes.grid.axis": "y", "grid.color": "0.88", "grid.linewidth": 0.6, "axes.axisbelow": True,
    "axes.prop_cycle": cycler(color=PALETTE), "lines.linewidth": 1.5, "lines.markersize": 4,
    "errorbar.capsize": 3, "image.interpolation": "nearest", "savefig.facecolor": "white",
}


def minus(text: str) -> str:
    """``text`` with typeset minus signs (as matplotlib writes them on the axes) for hyphens."""
    return text.replace("-", "\u2212")


def styled(draw):
    """Run ``draw`` (a function that builds or draws a figure) in the house style."""

    @functools.wraps(draw)
    def in_style(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)

    return in_style


def new_figure(width: float, height: float, dpi: float = DPI, layout: str | None = "constrained") -> Figure:
    """A white figure of ``width`` x ``height`` inches on an Agg canvas (int(width * dpi) x
    int(height * dpi) pixels). Call it from a ``styled`` function."""
    fig = Figure(figsize=(width, height), dpi=dpi, layout=layout, facecolor="white")
    FigureCanvasAgg(fig)
    return fig


def pixel_figure(width: int, height: int, dpi: float = DPI) -> Figure:
    """A figure of exactly ``width`` x ``height`` pixels and no layout engine (axes placed by hand)."""
    return new_figure((width + 1e-3) / dpi, (height + 1e-3) / dpi, dpi, layout=None)


@styled
def to_array(fig: Figure) -> np.ndarray:
    """Draw ``fig`` -> uint8 (H, W, 3)."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def save_png(fig: Figure, path: str | os.PathLike) -> Path:
    """Draw ``fig`` and write it to ``path`` (atomically, as every PNG of the project)."""
    return write_png(path, to_array(fig))
