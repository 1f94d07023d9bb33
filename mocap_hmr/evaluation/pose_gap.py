"""The paper's Figure 7 on the embedded world: per image test sample, MoCap-SPIN's gain over
the starting model (PA-MPJPE, mm) against how far the sample's pose is from the poses the
starting model was trained on, the real domain's corpus (``embedded_world.real_domain_corpus``:
the ``REAL_FAMILIES`` of the seed-1 corpus, and the others' tail where ``stand_in_spin.gap_share``).

Distance: the mean over SMPL's body joints 1..23 (the root excluded: its orientation is the
camera's) of the geodesic angle between the sample's joint rotation and a corpus frame's,
minimised over the corpus frames (``geometry.pose_distance.nearest_pose_distance``), in
degrees. The corpus is taken at ``CORPUS_FPS`` (every third frame of the 30 fps index):
neighbouring frames are near-duplicates, so the nearest distance barely changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import stats

from mocap_hmr.data.embedded_world import REAL_FAMILIES, REAL_MINUTES, REAL_SEED, real_domain_corpus, real_motion_index
from mocap_hmr.data.motion_index import load_index
from mocap_hmr.evaluation.report import markdown_table
from mocap_hmr.evaluation.results import Result
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.geometry.pose_distance import BODY_JOINTS, nearest_pose_distance
from mocap_hmr.vis.gain import gain_by_distance_bins

CORPUS_FPS = 10.0
BINS = 8  # quantile bins of the distance over the union of the sets
METRIC, METRIC_LABEL = "pa_mpjpe", "PA-MPJPE"
DISTANCE_LABEL = (f"distance to the nearest pose of the real domain's corpus (degrees, mean geodesic angle, "
                  f"{len(BODY_JOINTS)} joints)")


@dataclass
class PoseGap:
    """summary: JSON-ready (binned numbers, correlations, per-set means); distance, gain: set name ->
    (N,) per-sample distance (degrees) and gain (mm), for the figure."""

    summary: dict
    distance: dict[str, np.ndarray] = field(default_factory=dict)
    gain: dict[str, np.ndarray] = field(default_factory=dict)


def real_domain_poses(fps: float = CORPUS_FPS, gap_share: float = 0.0,
                      log: Callable[[str], None] = print) -> torch.Tensor:
    """(M, 24, 3, 3): the real domain's corpus (``real_domain_corpus`` with ``gap_share``) as
    rotation matrices, every ``round(index fps / fps)``-th frame."""
    index = real_domain_corpus(load_index(real_motion_index(log=log)), gap_share)
    step = max(1, round(index.fps / fps))
    return axis_angle_to_matrix(index.poses[::step].float())


def pose_distances(pose: torch.Tensor, corpus: torch.Tensor) -> np.ndarray:
    """pose (N, 24, 3) axis-angle, corpus (M, 24, 3, 3) -> (N,) nearest-neighbour distance, degrees."""
    distance, _ = nearest_pose_distance(axis_angle_to_matrix(pose.reshape(-1, 24, 3).float().cpu()), corpus.cpu())
    return np.degrees(distance.double().numpy())


def _correlations(x: np.ndarray, y: np.ndarray) -> dict[str, float | None]:
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"spearman": None, "spearman_p": None, "pearson": None, "pearson_p": None}
    spearman, pearson = stats.spearmanr(x, y), stats.pearsonr(x, y)
    return {"spearman": float(spearman.statistic), "spearman_p": float(spearman.pvalue),
            "pearson": float(pearson.statistic), "pearson_p": float(pearson.pvalue)}


def gain_by_pose_distance(results: list[Result], poses: dict[str, torch.Tensor], corpus: torch.Tensor,
                          families: dict[str, list[str]] | None = None, method_a: str = "starting model",
                          method_b: str = "MoCap-SPIN", bins: int = BINS, gap_share: float = 0.0) -> PoseGap | None:
    """The per-sample gain ``method_a`` - ``method_b`` (PA-MPJPE, mm) on each benchmark of ``poses``
    (name -> its samples' (N, 24, 3) axis-angle, in result order) against the samples' distance to
    ``corpus`` (M, 24, 3, 3); binned over the union of the benchmarks (``vis.gain.gain_by_distance_bins``),
    with Spearman's and Pearson's correlation over the union and per benchmark; with ``families``
    (name -> each sample's motion family), also per family of each benchmark: samples, mean
    distance, every method's mean PA-MPJPE and the mean gain; ``gap_share``: the corpus's, for the
    summary. None when no benchmark has both methods' results."""
    by = {(r.method, r.benchmark): r for r in results}
    names = [b for b in poses if (method_a, b) in by and (method_b, b) in by]
    if not names:
        return None
    gap = PoseGap(summary={})
    sets, by_family = {}, []
    for name in names:
        gain = by[method_a, name].per_sample[METRIC] - by[method_b, name].per_sample[METRIC]
        distance = pose_distances(poses[name], corpus)
        gap.distance[name], gap.gain[name] = distance, gain
        sets[name] = {"samples": len(gain), "mean_distance_deg": float(distance.mean()),
                      "mean_gain_mm": float(gain.mean()), **_correlations(distance, gain)}
        labels = np.asarray((families or {}).get(name, []))
        for family in dict.fromkeys(labels.tolist()) if len(labels) == len(gain) else ():
            rows = labels == family
            by_family.append({"benchmark": name, "family": family, "samples": int(rows.sum()),
                              "mean_distance_deg": float(distance[rows].mean()),
                              "pa_mpjpe": {m: float(r.per_sample[METRIC][rows].mean())
                                           for (m, b), r in by.items() if b == name},
                              "mean_gain_mm": float(gain[rows].mean())})
    distance = np.concatenate(list(gap.distance.values()))
    gain = np.concatenate(list(gap.gain.values()))
    binned = gain_by_distance_bins(distance, gain, bins)
    gap.summary = {
        "metric": METRIC, "gain": f"{method_a} - {method_b} (mm; > 0: {method_b} better)",
        "distance": DISTANCE_LABEL, "joints": list(BODY_JOINTS),
        "corpus": {"seed": REAL_SEED, "minutes": REAL_MINUTES, "families": list(REAL_FAMILIES), "gap_share": gap_share,
                   "fps": CORPUS_FPS, "frames": len(corpus)},
        "benchmarks": names, "samples": len(gain), **_correlations(distance, gain), "bins_asked": bins,
        "bins": {k: [None if isinstance(x, float) and math.isnan(x) else x for x in v.tolist()]
                 for k, v in binned.items()},
        "sets": sets,
        "families": by_family,
    }
    return gap


def _number(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    return "–" if value is None else f"{value:.2g}"


def markdown(summary: dict) -> list[str]:
    """The report's section: the correlations, the bins and each set's means."""
    b = summary["bins"]
    lines = ["## Gain by pose distance (the paper's Figure 7)", "",
             f"Per-sample {METRIC_LABEL} gain, {summary['gain']}, against the {summary['distance']}, over "
             f"{summary['samples']} samples of {', '.join(summary['benchmarks'])} (corpus: the real domain's "
             f"{', '.join(summary['corpus']['families'])} frames at {summary['corpus']['fps']:g} fps, "
             f"{summary['corpus']['frames']} frames). Spearman ρ = {_number(summary['spearman'])} "
             f"(p = {_p(summary['spearman_p'])}), Pearson r = {_number(summary['pearson'])}.", "",
             *markdown_table(["Distance bin (°)", "Mean distance (°)", "Samples", "Mean gain (mm)", "± 2 s.e. (mm)"],
                             [[f"{b['edges'][i]:.1f} – {b['edges'][i + 1]:.1f}", f"{b['distance'][i]:.1f}", str(count),
                               f"{b['mean'][i]:+.1f}", "–" if b["se"][i] is None else f"{2 * b['se'][i]:.1f}"]
                              for i, count in enumerate(b["count"])]),
             "",
             *markdown_table(["Benchmark", "Samples", "Mean distance (°)", "Mean gain (mm)", "Spearman ρ"],
                             [[name, str(s["samples"]), f"{s['mean_distance_deg']:.1f}", f"{s['mean_gain_mm']:+.1f}",
                               _number(s["spearman"])] for name, s in summary["sets"].items()])]
    families = sorted(summary.get("families", []), key=lambda f: (f["benchmark"], f["mean_distance_deg"]))
    if families:
        methods = list(dict.fromkeys(m for f in families for m in f["pa_mpjpe"]))
        lines += ["", f"Per motion family, nearest first ({METRIC_LABEL}, mm):", "",
                  *markdown_table(["Benchmark", "Family", "Samples", "Mean distance (°)", *methods, "Mean gain (mm)"],
                                  [[f["benchmark"], f["family"], str(f["samples"]), f"{f['mean_distance_deg']:.1f}",
                                    *(f"{f['pa_mpjpe'][m]:.1f}" if m in f["pa_mpjpe"] else "–" for m in methods),
                                    f"{f['mean_gain_mm']:+.1f}"] for f in families])]
    return lines + [""]
