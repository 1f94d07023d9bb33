"""The studies' figures: bars of one metric per variant (grouped when there are several
series), curves over a swept value, and each variant's difference to a reference with its
± 2 standard-error bar. Each returns a ``Figure`` (``figure.save_png`` writes it)."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from mocap_hmr.vis.figure import BETTER, NEUTRAL, PALETTE, REFERENCE, WORSE, minus, new_figure, styled

# a study's verdict on a difference (``Scores.verdict``) -> bar colour
VERDICT_COLOURS = {"lower": BETTER, "higher": WORSE, "tied": NEUTRAL, "diverged": NEUTRAL}  # diverged: no bar
VERDICT_LABELS = {"lower": "lower (beyond 2 s.e.)", "higher": "higher (beyond 2 s.e.)", "tied": "tied (within 2 s.e.)"}


SLOT = 0.9  # inches of x axis per group at least: room for a tick label of 2 lines of 12 characters
TITLE_CHARS_PER_INCH = 12  # characters of an axes title per inch (axes.titlesize, DejaVu Sans)
Y_AXIS_INCHES = 0.7  # a y axis's tick labels and label
LEGEND_INCHES = 1.8  # a legend beside the axes


def _wrap(label: str, width: int = 12) -> str:
    """A tick label on lines of about ``width`` characters, broken after '+' or at spaces."""
    return "\n".join(textwrap.wrap(label.replace("+", "+ "), width)).replace("+ ", "+")


def _title(ax, title: str, beside: float) -> None:
    """``title`` over ``ax``, on as many lines as the axes' width needs: the figure's width less
    ``beside`` inches (a legend beside the axes) and the y axis's labels."""
    width = ax.get_figure().get_figwidth() - beside - Y_AXIS_INCHES
    ax.set_title("\n".join(textwrap.wrap(title, max(20, int(width * TITLE_CHARS_PER_INCH)))))


def _group_axis(ax, labels: Sequence[str]) -> None:
    ax.set_xticks(np.arange(len(labels)), [_wrap(g) for g in labels])
    ax.tick_params(axis="x", length=0)
    ax.set_xlim(-0.6, len(labels) - 0.4)


@styled
def bar_chart(groups: Sequence[str], series: dict[str, Sequence[float]], title: str, ylabel: str,
              reference: tuple[str, float] | None = None) -> Figure:
    """Bars of ``series`` (name -> one value per group (G,), NaN: no bar) side by side in each
    group, each value written on its bar; ``reference`` (label, value) is a dashed line across
    the chart (e.g. the starting model), named in the legend. The y axis starts at 0; a single
    series needs no legend entry of its own."""
    names = list(series)
    legend = len(names) > 1 or reference is not None
    fig = new_figure(0.7 + len(groups) * max(SLOT, 0.2 + 0.32 * len(names)) + LEGEND_INCHES * legend, 3.0)
    ax = fig.add_subplot()
    width = 0.8 / len(names)
    for j, name in enumerate(names):
        values = np.array([float(v) for v in series[name]])
        keep = np.isfinite(values)
        x = np.arange(len(groups))[keep] - 0.4 + (j + 0.5) * width
        bars = ax.bar(x, values[keep], width * 0.92, color=PALETTE[j % len(PALETTE)], label=name)
        ax.bar_label(bars, fmt="%.1f", padding=1.5, fontsize=6.5 if len(names) > 1 else 7.5)
    if reference is not None:
        ax.axhline(reference[1], color=REFERENCE, linestyle="--", linewidth=1,
                   label=f"{reference[0]}: {reference[1]:.1f}")
    _group_axis(ax, groups)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.06)
    ax.set_ylabel(ylabel)
    _title(ax, title, LEGEND_INCHES * legend)
    handles, labels = ax.get_legend_handles_labels()
    keep = [i for i, label in enumerate(labels) if len(names) > 1 or label not in names]
    if keep:
        ax.legend([handles[i] for i in keep], [labels[i] for i in keep], loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


@styled
def curve_chart(x: Sequence[float], panels: Sequence[tuple[str, dict[str, Sequence[float]]]], title: str,
                xlabel: str, references: Sequence[tuple[str, float] | None] = ()) -> Figure:
    """One panel per (ylabel, {series name: values (X,)}), stacked, sharing the x axis ``x``
    (X,): each series a line with its points marked and written; ``references[i]`` (label,
    value) is a dashed line in panel i, named in its legend, which sits beside the panel (inside
    it would cover points of curves that lie close together)."""
    xs = np.asarray(x, float)
    fig = new_figure(8.4, 0.6 + 2.3 * len(panels))
    axes = np.atleast_1d(fig.subplots(len(panels), 1, sharex=True))
    for i, (ax, (ylabel, series)) in enumerate(zip(axes, panels, strict=True)):
        for j, (name, values) in enumerate(series.items()):
            values = np.asarray(values, float)
            ax.plot(xs, values, marker="o", color=PALETTE[j % len(PALETTE)], label=name)
            for xv, yv in zip(xs, values, strict=True):
                if np.isfinite(yv):
                    ax.annotate(f"{yv:.1f}", (xv, yv), xytext=(0, 5), textcoords="offset points", ha="center",
                                va="bottom", fontsize=7, color=PALETTE[j % len(PALETTE)])
        reference = references[i] if i < len(references) else None
        if reference is not None:
            ax.axhline(reference[1], color=REFERENCE, linestyle="--", linewidth=1,
                       label=f"{reference[0]}: {reference[1]:.1f}")
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.08 * (hi - lo))  # room for the values written above the points
        ax.set_ylabel(ylabel)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    axes[-1].set_xticks(xs, [f"{v:g}" for v in xs])
    axes[-1].set_xlabel(xlabel)
    fig.suptitle(title)
    return fig


@styled
def difference_chart(labels: Sequence[str], differences: Sequence[tuple[float, float]], verdicts: Sequence[str],
                     title: str, ylabel: str) -> Figure:
    """Each variant's difference to a reference, (mean, standard error) per label (mm, from
    ``Scores.delta``): a bar from 0 to the mean with an error bar of ± 2 standard errors,
    coloured by its verdict (``Scores.verdict``: lower green, higher red, tied grey), the value
    written past the bar's end; a NaN difference (verdict "diverged") has no bar and says so at 0.
    The differences are what the studies decide on, a few mm that absolute bars starting at 0
    cannot show."""
    mean = np.array([d for d, _ in differences], float)
    half = 2 * np.array([e for _, e in differences], float)
    fig = new_figure(0.8 + max(3, len(labels)) * SLOT + LEGEND_INCHES, 3.0)
    ax = fig.add_subplot()
    x = np.arange(len(labels))
    ax.bar(x, mean, 0.55, color=[VERDICT_COLOURS[v] for v in verdicts], yerr=half, ecolor="0.15",
           error_kw={"elinewidth": 1})
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    for xv, m, h, e, verdict in zip(x, mean, half, half / 2, verdicts, strict=True):
        if not np.isfinite(m):
            ax.annotate(verdict, (xv, 0.0), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                        fontsize=7.5)
            continue
        ax.annotate(minus(f"{m:+.1f} ± {e:.1f}"), (xv, m + h if m >= 0 else m - h), xytext=(0, 3 if m >= 0 else -3),
                    textcoords="offset points", ha="center", va="bottom" if m >= 0 else "top", fontsize=7.5)
    _group_axis(ax, labels)
    finite = np.isfinite(mean)
    lo, hi = min(0.0, *(mean - half)[finite]), max(0.0, *(mean + half)[finite])
    pad = 0.15 * (hi - lo or 1.0)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_ylabel(ylabel)
    _title(ax, title, LEGEND_INCHES)
    shown = [v for v in VERDICT_LABELS if v in verdicts]
    ax.legend([Patch(color=VERDICT_COLOURS[v]) for v in shown], [VERDICT_LABELS[v] for v in shown],
              loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig
