"""Curves: training curves of a run's ``metrics_*.csv`` tables over steps, and values over
frames (``smooth --plot``: a joint's angle before and after)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from mocap_hmr.vis.figure import PALETTE, new_figure, styled


@styled
def line_plot(series: Sequence[np.ndarray], colours: Sequence[str], labels: Sequence[str], *, title: str = "",
              xlabel: str = "", ylabel: str = "") -> Figure:
    """Each series (N,) over its index 0..N-1 as a line on one axes, with a legend; NaN values
    leave gaps."""
    fig = new_figure(6.4, 2.6)
    ax = fig.add_subplot()
    for values, colour, label in zip(series, colours, labels, strict=True):
        ax.plot(np.arange(len(values)), values, color=colour, label=label, linewidth=1.2)
    ax.set_xlim(0, max(len(s) for s in series) - 1)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend(loc="upper right")
    return fig


@styled
def training_curves(tables: dict[str, dict[str, np.ndarray]], columns: Sequence[str] = ("loss",),
                    log_y: bool = False) -> Figure:
    """One panel per column (stacked, sharing the step axis) of the metrics tables (name ->
    column -> (R,) values, with a ``step`` column): one curve per table that has the column;
    ``log_y`` draws y on a log scale (non-positive values left out). A column no table has is
    refused, naming the columns there are."""
    for column in columns:
        if not any(column in t for t in tables.values()):
            found = sorted({c for t in tables.values() for c in t})
            raise ValueError(f"no metrics file has the column {column!r}; columns found: {', '.join(found)}")
    fig = new_figure(6.4, 0.4 + 2.3 * len(columns))
    axes = np.atleast_1d(fig.subplots(len(columns), 1, sharex=True))
    for ax, column in zip(axes, columns, strict=True):
        for i, (name, table) in enumerate(tables.items()):
            if column in table and "step" in table:
                values = np.where(table[column] > 0, table[column], np.nan) if log_y else table[column]
                ax.plot(table["step"], values, color=PALETTE[i % len(PALETTE)], label=name)
        if log_y:
            ax.set_yscale("log")
        ax.set_ylabel(f"{column} (log scale)" if log_y else column)
        ax.legend(loc="upper right")
    axes[-1].set_xlabel("step")
    return fig
