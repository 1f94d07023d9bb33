"""The licensed benchmarks (3DPW, MPI-INF-3DHP, AIST++, MuPoTS-3D) as ``evaluate_benchmark``
takes them: crops through a DataLoader, ground truth from gendered SMPL bodies or 3D joints,
and the protocol each one is reported under."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig

from mocap_hmr.body import BodyModel
from mocap_hmr.data.benchmarks import BenchmarkSet, load_benchmark
from mocap_hmr.evaluation.benchmark_eval import Truth
from mocap_hmr.evaluation.crops import BenchmarkCrops
from mocap_hmr.evaluation.scoring import gendered_points
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.metrics import Protocol

GENDERS = {"m": "male", "f": "female", "n": "neutral"}


@dataclass
class RealBenchmark:
    """A loaded benchmark, ready to evaluate."""

    name: str
    data: BenchmarkSet
    crops: BenchmarkCrops
    truth: Truth
    protocol: Protocol


def protocol_for(data: BenchmarkSet, align: str) -> Protocol:
    """SMPL ground truth: the 14 LSP joints (SPIN / VIBE); 3D-joint ground truth: SPIN's 17 joints."""
    if data.joints3d is not None:
        return Protocol("h36m17", "pelvis", name="SPIN (17 joints)")
    return Protocol("lsp14", align, name="SPIN" if align == "pelvis" else "VIBE")


def truth_of(data: BenchmarkSet, model_path, device: torch.device) -> Truth:
    """Meshes and joints of the ground truth (gendered bodies, as SPIN evaluates 3DPW), or the
    given 3D joints; tracks when the benchmark is a video one (it has a frame rate)."""
    if data.pose is not None:
        bodies = {g: BodyModel(model_path, gender=GENDERS[g]).to(device) for g in np.unique(data.gender)}
        rotmat = axis_angle_to_matrix(torch.from_numpy(data.pose).float().reshape(-1, 24, 3))
        vertices, joints = gendered_points(bodies, data.gender, rotmat, torch.from_numpy(data.betas).float())
    else:
        vertices, joints = None, torch.from_numpy(data.joints3d).float()
    video = data.fps is not None
    return Truth(joints=joints, vertices=vertices, sequences=list(data.sequences()) if video else None,
                 frames=data.frame if video else None, fps=data.fps)


def load_real(entry: DictConfig, size: int, align: str, model_path, device: torch.device, log=print
              ) -> RealBenchmark:
    """One ``eval.real`` entry ({name, path, images}) loaded and checked."""
    reports_skips = entry.name == "aistpp" or (entry.name == "3dpw" and Path(entry.path).is_dir())
    data = load_benchmark(entry.name, entry.path, **({"log": log} if reports_skips else {}))
    log(f"eval: {entry.name} from {entry.path}: {len(data.image_paths):,} samples")
    return RealBenchmark(entry.name, data, BenchmarkCrops(data, entry.images, size), truth_of(data, model_path, device),
                         protocol_for(data, align))
