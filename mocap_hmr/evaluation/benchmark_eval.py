"""Evaluating image models (and PoseBERT on top) on one benchmark: ground truth as meshes and
joints, predictions through the cache, one ``Result`` per method.

A benchmark here is images (any iterable of batches) plus ``Truth``; with ``sequences`` it is
a video benchmark: every method also gets an acceleration error, and its per-frame
predictions are smoothed track by track by PoseBERT (when given) and by each plain filter
(``smoothers.standard_smoothers``), scored as "<method> + PoseBERT", "<method> + OneEuro", ...
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.evaluation.predict import cache_key, cached_predictions, predict
from mocap_hmr.evaluation.results import Result
from mocap_hmr.evaluation.scoring import body_points, score_frames, sequence_accel_error
from mocap_hmr.metrics import Protocol
from mocap_hmr.models.hmr import HMR
from mocap_hmr.models.posebert import PoseBERT
from mocap_hmr.paths import slug
from mocap_hmr.smoothers import Smoother, standard_smoothers


@dataclass
class Truth:
    """Ground truth of N samples: joints (N, 17, 3) H36M joints, metres, camera frame;
    vertices (N, V, 3) or None (joints-only benchmarks); sequences: per track, indices in
    frame order, with frames (N,) the frame numbers (gaps are frames nobody was seen in), or
    None for an image benchmark; fps of the videos."""

    joints: torch.Tensor
    vertices: torch.Tensor | None = None
    sequences: list[np.ndarray] | None = None
    frames: np.ndarray | None = None
    fps: float | None = None


@dataclass
class Method:
    """An image model to evaluate: its name in tables and its weights file."""

    name: str
    weights: Path


def refine_tracks(rotmat: torch.Tensor, sequences: list[np.ndarray], frames: np.ndarray, smoother: Smoother
                  ) -> torch.Tensor:
    """``smoother`` over each track: rotmat (N, 24, 3, 3), NaN where unobserved -> (N, 24, 3, 3);
    frames missing from a track (gaps in ``frames``) are unobserved frames, filled in and dropped."""
    out = rotmat.clone()
    for idx in sequences:
        timeline = torch.as_tensor(frames[idx] - frames[idx][0], dtype=torch.long)
        full = torch.full((int(timeline[-1]) + 1, 24, 3, 3), float("nan"))
        full[timeline] = rotmat[idx]
        out[idx] = smoother(full)[timeline].cpu()
    return out


def evaluate_benchmark(name: str, batches: Callable[[], Iterable[torch.Tensor]], n_batches: int, truth: Truth,
                       methods: list[Method], load_model: Callable[[Path], HMR], body: BodyModel, protocol: Protocol,
                       cache_dir: Path, description: dict, posebert: PoseBERT | None = None) -> list[Result]:
    """Results of every method (and on video benchmarks, each method + PoseBERT and + each
    plain filter) on one benchmark.

    batches: makes a fresh iterable of normalized image batches (b, 3, S, S), in sample order;
    description: what fixes the benchmark's content (for the prediction cache's key)."""
    video = truth.sequences is not None
    results = []
    for method in methods:
        def run_model(method=method):
            return predict(load_model(method.weights), batches(), n_batches, f"{method.name} on {name}")

        preds, _ = cached_predictions(cache_dir, f"{name}--{slug(method.name)}",
                                      cache_key(method.weights, {"benchmark": name, **description}), run_model)
        rotmat, betas = torch.from_numpy(preds["rotmat"]), torch.from_numpy(preds["betas"])
        results.append(_score(method.name, name, rotmat, betas, truth, body, protocol, video))
        for smoother in standard_smoothers(posebert, fps=truth.fps or 30.0) if video else ():
            refined = refine_tracks(rotmat, truth.sequences, truth.frames, smoother)
            results.append(_score(f"{method.name} + {smoother.label}", name, refined, betas, truth, body, protocol,
                                  video))
    return results


def _score(method: str, benchmark: str, rotmat: torch.Tensor, betas: torch.Tensor, truth: Truth, body: BodyModel,
           protocol: Protocol, video: bool) -> Result:
    vertices, joints = body_points(body, rotmat, betas)
    per_sample = score_frames(joints, truth.joints, protocol, vertices, truth.vertices)
    metrics = {k: float(v.mean()) for k, v in per_sample.items()}
    description = {**protocol.as_dict(), "joints": "J_regressor_h36m on the mesh"}
    if video:
        metrics["accel_error"] = float(sequence_accel_error(joints, truth.joints, truth.sequences, protocol).mean())
        description["fps"] = truth.fps
    return Result(method=method, benchmark=benchmark, kind="video" if video else "image", protocol=description,
                  metrics=metrics, per_sample=per_sample, samples=len(rotmat))
