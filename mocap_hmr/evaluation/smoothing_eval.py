"""Scoring smoothers on corrupted pose sequences whose clean motion is known: the embedded
denoising and generalisation benchmarks.

Every method sees the same corrupted sequences: "corrupted input" (each dropped frame shows
the last frame seen before it, as a per-frame pipeline would), PoseBERT and each plain
filter (``smoothers.standard_smoothers``). Joints are the protocol's, from the body model's
mesh (ground truth: the clean poses on the same body); acceleration error is per sequence.
"""

from __future__ import annotations

import numpy as np
import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.evaluation.benchmark_eval import refine_tracks
from mocap_hmr.evaluation.results import Result
from mocap_hmr.evaluation.scoring import body_joints, body_points, score_frames, sequence_accel_error
from mocap_hmr.filters import last_observed
from mocap_hmr.metrics import Protocol
from mocap_hmr.smoothers import Smoother

INPUT = "corrupted input"


def score_smoothers(clean: torch.Tensor, noisy: torch.Tensor, observed: torch.Tensor, betas: torch.Tensor,
                    groups: list[str], smoothers: list[Smoother], body: BodyModel, protocol: Protocol,
                    description: dict, with_vertices: bool = True, kind: str = "video") -> list[Result]:
    """One ``Result`` of ``kind`` per (method, group): clean, noisy (S, T, 24, 3, 3) rotations (noisy
    any finite values where not ``observed`` (S, T)); betas (S, 10); groups (S,): the benchmark
    name each sequence is scored under; description: protocol extras (fps, the set's params).
    ``with_vertices``: also MPVPE (memory: one group's meshes per method at a time)."""
    s, t = observed.shape
    held = noisy[torch.arange(s)[:, None], last_observed(observed)]
    hidden = torch.where(observed[..., None, None, None], noisy, float("nan"))
    frames = np.arange(t)

    def points(rotmat: torch.Tensor, betas: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(vertices, joints) with ``with_vertices``, else (joints,): no meshes skinned for nothing."""
        return body_points(body, rotmat, betas) if with_vertices else (body_joints(body, rotmat, betas),)

    outputs = {INPUT: held}
    for smoother in smoothers:
        outputs[smoother.label] = refine_tracks(hidden.flatten(0, 1), list(np.arange(s * t).reshape(s, t)),
                                                np.tile(frames, s), smoother).reshape(s, t, 24, 3, 3)
    results = []
    for group in dict.fromkeys(groups):
        rows = torch.from_numpy(np.flatnonzero(np.asarray(groups) == group))
        n = len(rows)
        group_betas = betas[rows, None].expand(n, t, 10).reshape(-1, 10)
        sequences = list(np.arange(n * t).reshape(n, t))
        truth = points(clean[rows].flatten(0, 1), group_betas)
        for method, rotmat in outputs.items():
            pred = points(rotmat[rows].flatten(0, 1), group_betas)
            joints, truth_joints = pred[-1], truth[-1]
            per_sample = score_frames(joints, truth_joints, protocol, *((pred[0], truth[0]) if with_vertices else ()))
            metrics = {k: float(v.mean()) for k, v in per_sample.items()}
            metrics["accel_error"] = float(sequence_accel_error(joints, truth_joints, sequences, protocol).mean())
            results.append(Result(method, group, kind, {**protocol.as_dict(), **description}, metrics, per_sample,
                                  len(joints)))
    return results
