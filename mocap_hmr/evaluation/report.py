"""Reports of evaluation results: Markdown tables laid out like the paper's (Tables 1 and 6 for
image results, Table 4 for video results) with a JSON twin, the per-sample gain histogram of
Figure 7, and training loss curves from a run folder's ``metrics_*.csv``. Pictures are drawn
with ``renderers.plots`` (numpy only)."""

from __future__ import annotations

import csv
import json
import os
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mocap_hmr.atomic import atomic_write
from mocap_hmr.evaluation.results import UNITS, Result
from mocap_hmr.imageio import write_png
from renderers import plots

# metric key -> column label, in the paper's column order
IMAGE_METRICS = {"pa_mpjpe": "PA-MPJPE", "mpjpe": "MPJPE", "mpvpe": "MPVPE"}  # Tables 1 and 6
VIDEO_METRICS = {"mpjpe": "MPJPE", "pa_mpjpe": "PA-MPJPE", "mpvpe": "MPVPE", "accel_error": "Accel",  # Table 4
                 "accel": "Jitter"}
SMOOTHING_METRICS = {"mpjpe": "MPJPE", "pa_mpjpe": "PA-MPJPE", "accel_error": "Accel"}
TABLES = {"image": ("Image results", IMAGE_METRICS), "video": ("Video results", VIDEO_METRICS),
          "smoothing": ("Smoothing, motion group by motion group", SMOOTHING_METRICS)}
LABEL_FIELDS = ("name", "description")  # protocol fields that do not change the numbers

BETTER, WORSE, MEAN_COLOUR = (46, 139, 87), (205, 80, 60), (40, 90, 220)
PALETTE = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


# ---------------------------------------------------------------- tables


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]],
                   left: Sequence[bool] | None = None) -> list[str]:
    """The lines of a Markdown table: the header, the alignment row, one line per row of
    cells. ``left``: which columns align left (default: the first; the others, numbers, right)."""
    left = [i == 0 for i in range(len(header))] if left is None else left
    return (["| " + " | ".join(header) + " |", "|" + "|".join(":---" if x else "---:" for x in left) + "|"]
            + ["| " + " | ".join(row) + " |" for row in rows])


def describe_protocol(protocol: dict) -> str:
    """One short line, e.g. 'lsp14 joints, pelvis-aligned (SPIN_3DPW), fps=30'."""
    parts = []
    if "joint_set" in protocol:
        parts.append(f"{protocol['joint_set']} joints")
    if "align" in protocol:
        parts.append("not root-aligned" if protocol["align"] == "none" else f"{protocol['align']}-aligned")
    text = ", ".join(parts) + (f" ({protocol['name']})" if protocol.get("name") else "")
    extras = [f"{k}={v}" for k, v in protocol.items() if k not in ("joint_set", "align", *LABEL_FIELDS)]
    return ", ".join([text] * bool(text) + extras) or "protocol not recorded"


def _protocol_key(protocol: dict) -> str:
    return json.dumps({k: v for k, v in protocol.items() if k not in LABEL_FIELDS}, sort_keys=True, default=str)


@dataclass
class _Group:
    """The columns of one benchmark scored under one protocol."""

    benchmark: str
    protocol: dict
    label: str = ""
    metrics: list[str] = field(default_factory=list)
    by_method: dict[str, Result] = field(default_factory=dict)


def _groups(results: list[Result], known: dict[str, str]) -> tuple[list[_Group], list[str]]:
    """Column groups, in order of first appearance, and warnings about benchmarks scored under
    several protocols (kept in separate groups, labelled [a], [b], ...) or on different sample counts."""
    groups: dict[tuple[str, str], _Group] = {}
    for r in results:
        group = groups.setdefault((r.benchmark, _protocol_key(r.protocol)), _Group(r.benchmark, r.protocol))
        if r.method in group.by_method:
            raise ValueError(f"two results for {r.method!r} on {r.benchmark!r} under the same protocol")
        group.by_method[r.method] = r
    warnings = []
    for benchmark in dict.fromkeys(b for b, _ in groups):
        same = [g for (b, _), g in groups.items() if b == benchmark]
        if len(same) == 1:
            same[0].label = benchmark
            continue
        for letter, g in zip(string.ascii_lowercase, same, strict=False):
            g.label = f"{benchmark} [{letter}]"
        listed = "; ".join(f"{g.label}: {describe_protocol(g.protocol)}" for g in same)
        warnings.append(f"{benchmark} was scored under {len(same)} protocols ({listed}); their columns are kept "
                        "apart and are not comparable.")
    for g in groups.values():
        present = list(dict.fromkeys(m for r in g.by_method.values() for m in r.metrics))
        g.metrics = [m for m in known if m in present] + [m for m in present if m not in known]
        counts = sorted({r.samples for r in g.by_method.values() if r.samples})  # 0: not recorded
        if len(counts) > 1:
            warnings.append(f"{g.label}: methods were scored on different numbers of samples "
                            f"({', '.join(map(str, counts))}).")
    return list(groups.values()), warnings


def _column(group: _Group, metric: str, methods: list[str]) -> list[float]:
    """The column's value per method (NaN where missing)."""
    return [float(group.by_method[m].metrics.get(metric, np.nan)) if m in group.by_method else np.nan
            for m in methods]


def _cells(values: list[float], delta: bool) -> list[str]:
    """1-decimal cells, the best (lowest, as printed) in bold when the column has two or more values;
    with ``delta``, rows after the first also show their difference to the first row."""
    finite = [round(v, 1) for v in values if np.isfinite(v)]
    best = min(finite) if len(finite) > 1 else None
    cells = []
    for i, v in enumerate(values):
        if not np.isfinite(v):
            cells.append("–")
            continue
        text = f"**{v:.1f}**" if round(v, 1) == best else f"{v:.1f}"
        if delta and i > 0 and np.isfinite(values[0]):
            text += f" ({v - values[0]:+.1f})"
        cells.append(text)
    return cells


def _footer(groups: list[_Group], labels: dict[str, str], delta: bool) -> str:
    """The line under a table: protocols, sample counts, units."""
    protocols = []
    for g in groups:
        counts = sorted({r.samples for r in g.by_method.values() if r.samples})
        n = f", N={'/'.join(map(str, counts))}" if counts else ""
        protocols.append(f"{g.label}: {describe_protocol(g.protocol)}{n}")
    by_unit: dict[str, list[str]] = {}
    for m in dict.fromkeys(m for g in groups for m in g.metrics):
        by_unit.setdefault(UNITS.get(m, "unit not recorded"), []).append(labels.get(m, m))
    units = "; ".join(f"{unit} ({', '.join(names)})" for unit, names in by_unit.items())
    extra = " Δ in parentheses: difference to the first row." if delta else ""
    return (f"Protocols — {'; '.join(protocols)}. Units: {units}. Lower is better; best per column in bold."
            f"{extra}")


def _table(results: list[Result], labels: dict[str, str], delta: bool) -> tuple[list[str], list[str]]:
    """Markdown lines of one table (rows = methods, columns grouped by benchmark) and its warnings."""
    groups, warnings = _groups(results, labels)
    methods = list(dict.fromkeys(r.method for r in results))
    headers = [f"{g.label} {labels.get(m, m)}" for g in groups for m in g.metrics]
    columns = [_cells(_column(g, m, methods), delta) for g in groups for m in g.metrics]
    lines = [f"**Warning:** {w}" for w in warnings] + [""] * bool(warnings)
    lines += markdown_table(["Method", *headers], [[method, *(col[i] for col in columns)]
                                                   for i, method in enumerate(methods)])
    return lines + ["", _footer(groups, labels, delta)], warnings


def _by_metric_tables(results: list[Result], labels: dict[str, str], delta: bool) -> tuple[list[str], list[str]]:
    """One table per metric, rows = benchmarks, columns = methods (many benchmarks, few
    methods: the smoothing comparisons), the best per row in bold; with ``delta``, each value's
    difference to the first column."""
    benchmarks = list(dict.fromkeys(r.benchmark for r in results))
    methods = list(dict.fromkeys(r.method for r in results))
    by = {(r.benchmark, r.method): r for r in results}
    lines = []
    for metric, label in labels.items():
        if not any(metric in r.metrics for r in results):
            continue
        rows = [[benchmark, *_cells([float(by[benchmark, m].metrics.get(metric, np.nan)) if (benchmark, m) in by
                                     else np.nan for m in methods], delta)] for benchmark in benchmarks]
        lines += [f"**{label}** ({UNITS.get(metric, 'unit not recorded')})", "",
                  *markdown_table(["Motion", *methods], rows), ""]
    protocols = sorted({describe_protocol(r.protocol) for r in results})
    counts = sorted({r.samples for r in results if r.samples})
    lines.append(f"Protocols — {'; '.join(protocols)}; frames per row: {'/'.join(map(str, counts))}. "
                 "Lower is better; best per row in bold.")
    return lines, []


def render_report(results: Sequence[Result], title: str, notes: Sequence[str] = (),
                  delta: bool = False) -> tuple[str, list[str]]:
    """The Markdown text (one table per result kind, image then video) and its warnings."""
    unknown = sorted({r.kind for r in results} - set(TABLES))
    if unknown:
        raise ValueError(f"result kind(s) {unknown}: accepted {', '.join(TABLES)}")
    lines, warnings = [f"# {title}", ""] + [f"- {note}" for note in notes] + [""] * bool(notes), []
    for kind, (heading, labels) in TABLES.items():
        of_kind = [r for r in results if r.kind == kind]
        if of_kind:
            table, found = (_by_metric_tables if kind == "smoothing" else _table)(of_kind, labels, delta)
            lines += [f"## {heading}", "", *table, ""]
            warnings += found
    return "\n".join(lines), warnings


def _json_default(value):
    """numpy scalars and arrays as plain JSON values."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def write_report(results: Sequence[Result], out_dir: str | os.PathLike, title: str, notes: Sequence[str] = (),
                 delta: bool = False) -> dict[str, Path]:
    """Write ``report.md`` (see ``render_report``) and ``report.json`` ({"title", "notes",
    "warnings", "results": [Result.as_dict()...]}) into ``out_dir``, atomically. ``delta`` adds
    each value's difference to the first row. Returns {"markdown": path, "json": path}."""
    if not results:
        raise ValueError("write_report: no results")
    text, warnings = render_report(results, title, notes, delta)
    payload = {"title": title, "notes": list(notes), "warnings": warnings, "results": [r.as_dict() for r in results]}
    paths = {"markdown": Path(out_dir) / "report.md", "json": Path(out_dir) / "report.json"}
    atomic_write(paths["markdown"], lambda fh: fh.write(text.encode()))
    data = json.dumps(payload, indent=2, ensure_ascii=False, default=_json_default)
    atomic_write(paths["json"], lambda fh: fh.write(data.encode()))
    return paths


# ---------------------------------------------------------------- Figure 7: per-sample gain


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


GAIN_SIZE = (1100, 900)  # width, height of gain_histogram's picture
GAIN_PANELS = (120, 110, 1060, 420), (120, 540, 1060, 810)  # its two panels: left, top, right, bottom


def gain_histogram(per_sample_a, per_sample_b, path: str | os.PathLike, label_a: str, label_b: str,
                   metric: str = "PA-MPJPE", bins: int | Sequence[float] = 40, unit: str = "mm") -> Path:
    """The paper's Figure 7 as a PNG (``GAIN_SIZE``): the per-sample gain a - b (a, b: (N,), lower
    is better, so gain > 0 means ``label_b`` is better) as a histogram (samples per bin, top) and
    each bin's contribution to the mean gain (bottom; the bars sum to the mean gain), see
    ``gain_bins``. Zero is marked, the mean gain dashed; mean gain and share of samples improved
    are written under the title. The count axis goes up to at least 5, so its ticks are whole samples."""
    gain = _gain(per_sample_a, per_sample_b)
    edges, counts, contributions = gain_bins(per_sample_a, per_sample_b, bins)
    colours = np.where(((edges[:-1] + edges[1:]) / 2 > 0)[:, None], BETTER, WORSE)
    image = np.full((GAIN_SIZE[1], GAIN_SIZE[0], 3), 255, dtype=np.uint8)
    plots.draw_text(image, f"{metric} gain per sample: {label_a} - {label_b}", GAIN_SIZE[0] / 2, 14,
                    align="center", scale=3)
    plots.draw_text(image, f"mean gain {gain.mean():+.2f} {unit}, {100 * (gain > 0).mean():.1f}% of {len(gain)} "
                    f"samples improved (gain > 0: {label_b} better)", GAIN_SIZE[0] / 2, 48, align="center")
    xlim, xlabel = (edges[0], edges[-1]), f"{metric} gain ({unit})"
    top = plots.axes(image, GAIN_PANELS[0], xlim, (0, max(counts.max(), 5)), title="Samples per bin",
                     xlabel=xlabel, ylabel="samples")
    plots.bars(top, edges[:-1], edges[1:], counts, colours)
    ylim = (min(contributions.min(), 0.0), max(contributions.max(), 0.0))
    bottom = plots.axes(image, GAIN_PANELS[1], xlim, ylim, xlabel=xlabel, ylabel=f"contribution ({unit})",
                        title="Contribution of each bin to the mean gain (bars sum to it)")
    plots.bars(bottom, edges[:-1], edges[1:], contributions, colours)
    plots.hline(bottom, 0.0, plots.TEXT_COLOUR, width=1)
    for ax in (top, bottom):
        plots.vline(ax, 0.0, plots.TEXT_COLOUR)
        plots.vline(ax, gain.mean(), MEAN_COLOUR, dashed=True)
    plots.draw_text(image, f"mean {gain.mean():+.2f}", float(top.x_px(gain.mean())) + 6, GAIN_PANELS[0][1] + 6,
                    MEAN_COLOUR, background=plots.BACKGROUND)
    return write_png(path, image)


# ---------------------------------------------------------------- training curves


def read_metrics_csv(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """A run folder's ``metrics_*.csv`` as column -> (R,) float values (empty cells NaN)."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    columns = list(rows[0]) if rows else []
    return {c: np.array([float(r[c]) if r.get(c) else np.nan for r in rows]) for c in columns}


CURVE_WIDTH, CURVE_PANEL_HEIGHT = 1100, 340  # training_curves' picture: width, height per column
CURVE_BOX = (120, 50, 820, 270)  # a panel's axes: left, top, right, bottom


def _curve_panel(image: np.ndarray, column: str, tables: dict[str, dict[str, np.ndarray]], log_y: bool) -> None:
    """One column of every table that has it, as curves over ``step``, with a legend on the right."""
    curves = {name: (t["step"], t[column]) for name, t in tables.items() if column in t and "step" in t}
    colours = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(tables)}
    y = np.concatenate([np.zeros(0), *(v for _, v in curves.values())])
    y = y[np.isfinite(y) & (y > 0 if log_y else True)]
    steps = np.concatenate([np.zeros(0), *(s for s, _ in curves.values())])
    xlim = (float(np.nanmin(steps)), float(np.nanmax(steps))) if steps.size else (0.0, 1.0)
    ylim = (float(y.min()), float(y.max())) if y.size else (1.0, 10.0)
    ax = plots.axes(image, CURVE_BOX, xlim, ylim, title=column, xlabel="step",
                    ylabel=f"{column} (log)" if log_y else column, log_y=log_y)
    for name, (s, v) in curves.items():
        plots.polyline(ax, s, v, colours[name], radius=1.5)
    plots.legend(image, list(curves), [colours[n] for n in curves], CURVE_BOX[2] + 20, CURVE_BOX[1])


def training_curves(csv_paths: dict[str, str | os.PathLike], path: str | os.PathLike,
                    columns: Sequence[str] = ("loss",), log_y: bool = False) -> Path:
    """A PNG of training curves (CURVE_WIDTH x CURVE_PANEL_HEIGHT per column): one panel per column
    of the ``metrics_*.csv`` files (name -> path; columns step, loss terms...), one curve per file
    that has the column, over ``step``; ``log_y`` draws y on a log scale (non-positive values left out)."""
    tables = {name: read_metrics_csv(p) for name, p in csv_paths.items()}
    for column in columns:
        if not any(column in t for t in tables.values()):
            found = sorted({c for t in tables.values() for c in t})
            raise ValueError(f"no metrics file has the column {column!r}; columns found: {', '.join(found)}")
    image = np.full((CURVE_PANEL_HEIGHT * len(columns), CURVE_WIDTH, 3), 255, dtype=np.uint8)
    for i, column in enumerate(columns):
        _curve_panel(image[i * CURVE_PANEL_HEIGHT:(i + 1) * CURVE_PANEL_HEIGHT], column, tables, log_y)
    return write_png(path, image)
