"""A study's results over repeated training runs (``study.seeds``).

A variant trained with ``study.seeds`` = K seeds is K models, named ``label`` (seed ``seed``)
and ``label (seed s)`` for the others; ``Scores`` pools them back under ``label``: the mean of
each metric and of each sample's error over the K models (``pooled``), their spread over seeds,
and differences between two variants with an error bar that holds what K allows:

- K > 1: the mean over seeds of the paired difference (variant and reference trained on the
  same streams seed by seed) and its standard error over the K seeds: training noise included;
- K = 1: the paired per-sample difference and its standard error over the test samples: test
  sampling only, **not** the run-to-run noise of training (several mm on the embedded default).

A variant whose training diverged (``diverged``: label -> how) has no models: its scores and
differences are NaN, its verdict and difference cells say "diverged", and ``notes`` tell how.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mocap_hmr.errors import MocapHMRError
from mocap_hmr.evaluation.benchmark_eval import Method
from mocap_hmr.evaluation.results import Result
from mocap_hmr.studies.tables import HEADLINE, Column, find


def repeat_name(label: str, seed: int, repeat: int) -> str:
    """The method name of repeat ``repeat`` of a variant (repeat 0 keeps the label)."""
    return label if repeat == 0 else f"{label} (seed {seed + repeat})"


def paired_delta(result: Result, reference: Result, metric: str = "pa_mpjpe") -> tuple[float, float]:
    """Mean and standard error over the samples of the per-sample difference result - reference
    (two models, or one model on two renderings, scored on the same samples in the same order)."""
    a, b = (np.asarray(r.per_sample[metric], float) for r in (result, reference))
    if a.shape != b.shape or a.ndim != 1 or len(a) < 2:
        raise MocapHMRError(f"'{result.method}' and '{reference.method}': per-sample {metric} of shapes {a.shape} "
                            f"and {b.shape} cannot be paired")
    d = a - b
    return float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d)))


@dataclass
class Scores:
    """results: every model's ``Result``; groups: label -> the method names of its repeats;
    diverged: label -> how its training diverged (no models, no results)."""

    results: list[Result]
    groups: dict[str, list[str]] = field(default_factory=dict)
    diverged: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, results: list[Result], methods: Sequence[tuple[str, list[Method]]],
           diverged: dict[str, str] | None = None) -> Scores:
        """methods: (label, its models) as ``variants.train_repeats`` gives them (none: diverged)."""
        diverged = diverged or {}
        missing = [label for label, repeats in methods if not repeats and label not in diverged]
        if missing:
            raise MocapHMRError(f"no models and no divergence recorded for {missing}")
        return cls(results, {label: [m.name for m in repeats] for label, repeats in methods if repeats},
                   {label: diverged[label] for label, repeats in methods if not repeats})

    @property
    def seeds(self) -> int:
        return max((len(v) for v in self.groups.values()), default=1)

    def pooled(self) -> list[Result]:
        """One ``Result`` per (label, benchmark): metrics and per-sample errors averaged over repeats."""
        out = []
        for label, names in self.groups.items():
            for benchmark in dict.fromkeys(r.benchmark for r in self.results if r.method == names[0]):
                runs = [find(self.results, name, benchmark) for name in names]
                metrics = {k: float(np.mean([r.metrics[k] for r in runs])) for k in runs[0].metrics}
                per_sample = {k: np.mean([r.per_sample[k] for r in runs], axis=0) for k in runs[0].per_sample}
                out.append(Result(label, benchmark, runs[0].kind, runs[0].protocol, metrics, per_sample,
                                  runs[0].samples))
        return out

    def score(self, label: str, metric: str = "pa_mpjpe", benchmark: str = HEADLINE) -> float:
        """The label's metric, the mean over its repeats (NaN: diverged)."""
        if label in self.diverged:
            return math.nan
        return float(np.mean([find(self.results, name, benchmark).metrics[metric] for name in self.groups[label]]))

    def score_text(self, label: str, metric: str = "pa_mpjpe", benchmark: str = HEADLINE) -> str:
        return "diverged" if label in self.diverged else f"{self.score(label, metric, benchmark):.1f}"

    def lowest(self, labels: Sequence[str], metric: str = "pa_mpjpe", benchmark: str = HEADLINE) -> str | None:
        """The label with the lowest score among those that trained (None: all diverged)."""
        trained = [label for label in labels if label not in self.diverged]
        return min(trained, key=lambda label: self.score(label, metric, benchmark)) if trained else None

    def spread(self, label: str, metric: str = "pa_mpjpe", benchmark: str = HEADLINE) -> float | None:
        """Standard deviation of the metric over the label's repeats (None for one run or diverged)."""
        if label in self.diverged:
            return None
        values = [find(self.results, name, benchmark).metrics[metric] for name in self.groups[label]]
        return float(np.std(values, ddof=1)) if len(values) > 1 else None

    def delta(self, label: str, reference: str, metric: str = "pa_mpjpe", benchmark: str = HEADLINE
              ) -> tuple[float, float]:
        """(mean, standard error) of ``label`` - ``reference`` (see the module docstring). A
        reference with one run (the starting model) is compared with every repeat; NaN where
        either diverged."""
        if label in self.diverged or reference in self.diverged:
            return math.nan, math.nan
        names, ref = self.groups[label], self.groups[reference]
        pairs = [(find(self.results, n, benchmark), find(self.results, ref[i] if len(ref) > 1 else ref[0], benchmark))
                 for i, n in enumerate(names)]
        if len(pairs) > 1:
            d = np.array([a.metrics[metric] - b.metrics[metric] for a, b in pairs])
            return float(d.mean()), float(d.std(ddof=1) / math.sqrt(len(d)))
        return paired_delta(*pairs[0], metric)

    def delta_text(self, label: str, reference: str, metric: str = "pa_mpjpe", benchmark: str = HEADLINE) -> str:
        if label in self.diverged:
            return "diverged"
        if reference in self.diverged:
            return f"'{reference}' diverged"
        mean, se = self.delta(label, reference, metric, benchmark)
        return f"{mean:+.2f} ± {se:.2f}"  # hundredths: batch-norm-only differences are tenths of a mm

    @property
    def benchmarks(self) -> list[str]:
        return list(dict.fromkeys(r.benchmark for r in self.results))

    def columns(self, reference: str) -> list[Column]:
        """A table's spread column (the headline benchmark, with several seeds) and one column per
        benchmark of differences against ``reference`` (see ``cells``)."""
        spread = [Column("spread", f"{HEADLINE} PA-MPJPE sd over seeds (mm)")] if self.seeds > 1 else []
        return spread + [Column(f"delta {b}", f"{b} PA-MPJPE vs {reference} (mm, ±)") for b in self.benchmarks]

    def cells(self, label: str, reference: str) -> dict[str, str | float | None]:
        """The cells of ``columns(reference)`` in ``label``'s row."""
        return {"spread": self.spread(label),
                **{f"delta {b}": self.delta_text(label, reference, benchmark=b) for b in self.benchmarks}}

    def verdict(self, label: str, reference: str, benchmark: str = HEADLINE) -> str:
        """'lower' / 'higher' when the difference exceeds two standard errors, 'diverged' when
        either did, else 'tied'."""
        if label in self.diverged or reference in self.diverged:
            return "diverged"
        mean, se = self.delta(label, reference, benchmark=benchmark)
        return "lower" if mean < -2 * se else "higher" if mean > 2 * se else "tied"

    def notes(self) -> list[str]:
        """A table's notes on its scores: what the ± of ``delta_text`` is, and how each diverged
        variant diverged."""
        if self.seeds > 1:
            error = (f"±: standard error over {self.seeds} seeds of the paired difference (training noise included); "
                     f"values are means over the {self.seeds} seeds")
        else:
            error = ("±: standard error over the test samples of the paired per-sample difference, one training run: "
                     "it leaves out run-to-run training noise (several mm here; study.seeds=3 measures it)")
        return [error] + [f"'{label}' diverged ({how}): no scores (a lower rate may train it)" for label, how
                          in self.diverged.items()]
