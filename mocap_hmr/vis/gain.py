"""The per-sample gain of one model over another, as the paper's Figure 7: a histogram of the
gain a - b (samples per bin) over each bin's contribution to the mean gain."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from mocap_hmr.vis.figure import BETTER, PALETTE, WORSE, minus, new_figure, styled

GAIN_INCHES = (7.0, 5.6)  # the figure: width, height (at figure.DPI: 1050 x 840 pixels)


def _gain(a, b) -> np.ndarray:
    """a - b for per-sample values a, b (N,), N > 0, all finite."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape or not a.size:
        raise ValueError(f"per-sample values must be two (N,) arrays with N > 0, got {a.shape} and {b.shape}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("per-sample values must be finite")
    return a - b


def gain_bins(a, b, bins: int | Sequence[float] = 40) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bin the per-sample gain a - b (a, b: (N,)). ``bins`` is a count, rounded up to even, of equal
    bins symmetric about 0 (0 is an edge) that span the largest |gain|; or the edges (B + 1,),
    increasing, with gains outside them counted in the end bins. A bin holds edges[i] <= gain <
    edges[i + 1] (the last also its right edge). Returns edges (B + 1,), counts (B,) summing to N, and
    contributions (B,) = sum of the bin's gains / N, summing to the mean gain."""
    gain = _gain(a, b)
    if np.ndim(bins) == 0:
        half = float(np.abs(gain).max()) or 1.0  # all gains 0: bins of [-1, 1]
        right = np.linspace(0.0, half, -(-int(bins) // 2) + 1)
        edges = np.concatenate([-right[:0:-1], right])
    else:
        edges = np.asarray(bins, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"bins: a count or increasing edges, got {bins!r}")
    index = np.clip(np.searchsorted(edges, gain, side="right") - 1, 0, len(edges) - 2)
    counts = np.bincount(index, minlength=len(edges) - 1)
    return edges, counts, np.bincount(index, weights=gain, minlength=len(edges) - 1) / len(gain)


@styled
def gain_histogram(per_sample_a, per_sample_b, label_a: str, label_b: str, metric: str = "PA-MPJPE",
                   bins: int | Sequence[float] = 40, unit: str = "mm") -> Figure:
    """The per-sample gain a - b (a, b: (N,), lower is better, so gain > 0 means ``label_b`` is
    better) as a histogram (samples per bin, top) and each bin's contribution to the mean gain
    (bottom; the bars sum to the mean gain), see ``gain_bins``; bins where ``label_b`` is better
    green, worse red. Zero is marked, the mean gain dashed; mean gain and share of samples
    improved are written under the title. Two axes, sharing x."""
    gain = _gain(per_sample_a, per_sample_b)
    edges, counts, contributions = gain_bins(per_sample_a, per_sample_b, bins)
    colours = np.where((edges[:-1] + edges[1:]) / 2 > 0, BETTER, WORSE)
    fig = new_figure(*GAIN_INCHES)
    top, bottom = fig.subplots(2, 1, sharex=True)
    for ax, heights in ((top, counts), (bottom, contributions)):
        ax.bar(edges[:-1], heights, np.diff(edges), align="edge", color=colours, edgecolor="white", linewidth=0.4)
        ax.axvline(0.0, color="0.15", linewidth=1)
        ax.axvline(gain.mean(), color=PALETTE[0], linestyle="--", linewidth=1.2)
    bottom.axhline(0.0, color="0.15", linewidth=0.8)
    top.set_ylim(0, max(counts.max(), 5) * 1.08)  # whole samples on the count axis
    top.set_ylabel("samples")
    top.set_title("Samples per bin")
    bottom.set_ylabel(f"contribution ({unit})")
    bottom.set_title("Contribution of each bin to the mean gain (the bars sum to it)")
    bottom.set_xlabel(f"{metric} gain, {label_a} − {label_b} ({unit})")
    bottom.set_xlim(edges[0], edges[-1])
    mean = minus(f"{gain.mean():+.2f} {unit}")
    top.legend([Patch(color=BETTER), Patch(color=WORSE), Line2D([], [], color=PALETTE[0], linestyle="--")],
               [f"{label_b} better", f"{label_a} better", f"mean gain {mean}"], loc="best")
    fig.suptitle(f"{metric} gain per sample: {label_a} − {label_b}\nmean {mean}; {100 * (gain > 0).mean():.1f}% of "
                 f"{len(gain)} samples improved (gain > 0: {label_b} better)")
    return fig
