"""The per-sample gain of one model over another, as the paper's Figure 7: a histogram of the
gain a - b (samples per bin) over each bin's contribution to the mean gain (``gain_histogram``),
and the gain against a per-sample distance, binned (``gain_by_distance``)."""

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


DISTANCE_INCHES = (7.0, 4.4)  # the gain-by-distance figure: width, height


def gain_by_distance_bins(distance, gain, bins: int = 8) -> dict[str, np.ndarray]:
    """The gain binned by distance: ``bins`` quantile bins of ``distance`` (N,) (fewer where
    quantiles tie), a bin holding edges[i] <= distance < edges[i + 1] (the last also its right
    edge). Returns edges (B + 1,) and per bin: count (B,), distance (B,) its samples' mean
    distance, mean (B,) their mean gain and se (B,) its standard error (std with ddof 1 / sqrt(count);
    NaN with fewer than 2 samples)."""
    distance, gain = np.asarray(distance, dtype=float), np.asarray(gain, dtype=float)
    if distance.ndim != 1 or distance.shape != gain.shape or not distance.size:
        raise ValueError(f"distance and gain must be two (N,) arrays with N > 0, got {distance.shape} and {gain.shape}")
    if not (np.isfinite(distance).all() and np.isfinite(gain).all()):
        raise ValueError("distance and gain must be finite")
    if int(bins) < 1:
        raise ValueError(f"bins must be at least 1, got {bins}")
    edges = np.unique(np.quantile(distance, np.linspace(0.0, 1.0, int(bins) + 1)))
    if len(edges) == 1:  # every distance the same: one bin
        edges = np.array([edges[0], edges[0] + 1.0])
    index = np.clip(np.searchsorted(edges, distance, side="right") - 1, 0, len(edges) - 2)
    b = len(edges) - 1
    count = np.bincount(index, minlength=b)
    mean = np.bincount(index, weights=gain, minlength=b) / count
    squares = np.bincount(index, weights=(gain - mean[index]) ** 2, minlength=b)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.where(count > 1, np.sqrt(squares / np.maximum(count - 1, 1) / count), np.nan)
    return {"edges": edges, "count": count, "distance": np.bincount(index, weights=distance, minlength=b) / count,
            "mean": mean, "se": se}


@styled
def gain_by_distance(distance: dict[str, np.ndarray], gain: dict[str, np.ndarray], label_a: str, label_b: str,
                     xlabel: str, metric: str = "PA-MPJPE", unit: str = "mm", bins: int = 8, title: str = "",
                     note: str = "") -> Figure:
    """The per-sample gain a - b (``gain``: set name -> (N,), gain > 0: ``label_b`` better) against
    a per-sample distance (``distance``: set name -> (N,), same sets and order), as the paper's
    Figure 7 reads gain against distance to the training poses: every sample a dot coloured by its
    set; over the union of the sets, quantile bins of the distance (``gain_by_distance_bins``)
    with their mean gain ± 2 standard errors, drawn at each bin's mean distance; zero marked.
    ``title`` (default: the metric's gain by distance) and ``note``, a line under it (e.g. the
    correlation)."""
    names = list(gain)
    if set(names) != set(distance) or not names:
        raise ValueError(f"distance and gain must name the same sets, got {sorted(distance)} and {sorted(gain)}")
    every_distance = np.concatenate([np.asarray(distance[k], dtype=float) for k in names])
    every_gain = np.concatenate([np.asarray(gain[k], dtype=float) for k in names])
    binned = gain_by_distance_bins(every_distance, every_gain, bins)
    fig = new_figure(*DISTANCE_INCHES)
    ax = fig.add_subplot()
    for j, name in enumerate(names):
        ax.scatter(distance[name], gain[name], s=7, color=PALETTE[j % len(PALETTE)], alpha=0.45, linewidths=0,
                   label=f"{name} ({len(gain[name])})")
    ax.axhline(0.0, color="0.15", linewidth=1)
    for edge in binned["edges"][1:-1]:
        ax.axvline(edge, color="0.8", linewidth=0.6, zorder=0)
    ax.errorbar(binned["distance"], binned["mean"], yerr=2 * np.nan_to_num(binned["se"]), color="black",
                marker="o", markersize=4.5, linewidth=1.3, label="all sets: mean gain per bin ± 2 s.e.")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"{metric} gain, {label_a} − {label_b} ({unit})")
    ax.legend(loc="best")
    ax.set_title((title or f"{metric} gain per sample by distance") + (f"\n{note}" if note else ""))
    return fig
