"""A study's table: ``table.md`` (Markdown, with the protocols it was measured under) and
``table.json`` (the same rows, plus every ``Result``), written atomically into the study folder.

Rows are dicts keyed by column; ``metric_columns`` / ``metric_cells`` lay evaluation results out
as one column per (benchmark, metric), in the paper's order (PA-MPJPE, MPJPE, MPVPE)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from mocap_hmr.atomic import atomic_write
from mocap_hmr.choices import EMBEDDED_IMAGE_SETS
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.evaluation.report import IMAGE_METRICS, describe_protocol, markdown_table
from mocap_hmr.evaluation.results import UNITS, Result

# The embedded world's three image sets, every study scores them; the paper's effect is to show on the
# pose gap, so that set heads the summaries and differences (mocap_hmr.evaluation.embedded.IMAGE_SETS)
WORLD_SETS = tuple(f"embedded-{name}" for name in EMBEDDED_IMAGE_SETS)
HEADLINE = "embedded-pose-gap"


@dataclass
class Column:
    """key: the rows' key; label: the header; lower_better: the lowest value is printed in bold."""

    key: str
    label: str
    lower_better: bool = False


def benchmarks(results: Sequence[Result]) -> list[str]:
    return list(dict.fromkeys(r.benchmark for r in results))


def metric_columns(results: Sequence[Result]) -> list[Column]:
    """One column per benchmark and image metric the results have."""
    present = {(r.benchmark, m) for r in results for m in r.metrics}
    return [Column(f"{b} {m}", f"{b} {label} ({UNITS[m]})", lower_better=True)
            for b in benchmarks(results) for m, label in IMAGE_METRICS.items() if (b, m) in present]


def metric_cells(results: Sequence[Result], method: str) -> dict[str, float]:
    """The metric cells of one method's row (see ``metric_columns``)."""
    return {f"{r.benchmark} {m}": v for r in results if r.method == method for m, v in r.metrics.items()}


def find(results: Sequence[Result], method: str, benchmark: str = HEADLINE) -> Result:
    for r in results:
        if r.method == method and r.benchmark == benchmark:
            return r
    raise MocapHMRError(f"no {benchmark} result for '{method}'")


def _cell(value, bold: bool) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    text = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else \
        f"{value:.1f}" if isinstance(value, float) else str(value)
    return f"**{text}**" if bold else text


def render_table(title: str, columns: Sequence[Column], rows: Sequence[dict], notes: Sequence[str] = (),
                 results: Sequence[Result] = ()) -> str:
    """The Markdown text: title, notes, the table, and a footer with each benchmark's protocol."""
    best = {}
    for c in columns:
        values = [round(r[c.key], 1) for r in rows if isinstance(r.get(c.key), float) and math.isfinite(r[c.key])]
        if c.lower_better and len(values) > 1:
            best[c.key] = min(values)
    lines = [f"# {title}", ""] + [f"- {n}" for n in notes] + [""] * bool(notes)
    text_columns = {c.key for c in columns if all(isinstance(r.get(c.key), str | None) for r in rows)
                    and any(any(ch.isalpha() for ch in r.get(c.key) or "") for r in rows)}
    cells = [[_cell(row.get(c.key), c.key in best and isinstance(row.get(c.key), float)
                    and round(row[c.key], 1) == best[c.key]) for c in columns] for row in rows]
    lines += markdown_table([c.label for c in columns], cells, [c.key in text_columns for c in columns])
    protocols: dict[str, list[str]] = {}  # one entry per distinct protocol, naming its benchmarks
    for b in benchmarks(results):
        first = next(r for r in results if r.benchmark == b)
        protocols.setdefault(f"{describe_protocol(first.protocol)}, N={first.samples}", []).append(b)
    if protocols:
        footer = "; ".join(f"{', '.join(names)}: {text}" for text, names in protocols.items())
        lines += ["", f"Protocols — {footer}. Lower is better; best per column in bold."]
    return "\n".join(lines) + "\n"


def write_table(folder: str | Path, title: str, columns: Sequence[Column], rows: Sequence[dict],
                notes: Sequence[str] = (), results: Sequence[Result] = (), extra: dict | None = None
                ) -> dict[str, Path]:
    """Write ``table.md`` and ``table.json`` ({title, notes, columns, rows, results, **extra})."""
    folder = Path(folder)
    text = render_table(title, columns, rows, notes, results)
    payload = {"title": title, "notes": list(notes), "columns": [asdict(c) for c in columns], "rows": list(rows),
               "results": [r.as_dict() for r in results], **(extra or {})}
    paths = {"markdown": folder / "table.md", "json": folder / "table.json"}
    atomic_write(paths["markdown"], lambda fh: fh.write(text.encode()))
    atomic_write(paths["json"], lambda fh: fh.write(json.dumps(payload, indent=2, ensure_ascii=False).encode()))
    return paths
