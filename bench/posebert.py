"""PoseBERT speed: python bench/posebert.py [--device cuda] [--batch 1024] [--frames 18000] [--compile]

Prints a Markdown table: training steps (``PoseBertTrainer.step`` as ``train.py`` runs it,
with the paper's model, T=16, Dt=512, L=4: windows from the device-resident
SequenceSampler with masking and noise, seen from random cameras; L2 on rotation matrices
and on forward-kinematics joints; Adam; bf16 autocast on CUDA) and refinement of one
sequence offline, batched (windows T // 4 frames apart, the default, or every one of the
N - T + 1 windows, in forward passes of 1024), against the release demo's design of one
forward pass per window (the demo even runs one per frame; on a shorter sequence), for the
paper's model (T=16) and the released architecture (window 64). Weights are random: speed
does not depend on them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

# run as a script: the repository root, not bench/ (whose posebert.py is this file), goes on the path
sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench.samplers import synthetic_index  # noqa: E402
from bench.timing import device_name, measure_ms, print_table  # noqa: E402
from mocap_hmr.body import BodyModel  # noqa: E402
from mocap_hmr.body.standin import resolve_body_model  # noqa: E402
from mocap_hmr.config import load_config  # noqa: E402
from mocap_hmr.geometry import axis_angle_to_matrix  # noqa: E402
from mocap_hmr.models.posebert import build_posebert  # noqa: E402
from mocap_hmr.refinement import refine  # noqa: E402
from mocap_hmr.training.posebert_step import PoseBertTrainer  # noqa: E402


def build_trainer(device: torch.device, batch: int = 1024, config_file: str | None = None,
                  overrides: list[str] = ()) -> PoseBertTrainer:
    """A trainer on a random corpus of 1,000,000 frames resident on ``device`` and the
    stand-in body (or $SMPL_DIR); the model from the schema's defaults (the paper's), or
    ``config_file``, then ``key=value`` overrides."""
    cfg = load_config(config_file, [f"posebert.batch_size={batch}", *overrides]).posebert
    body = BodyModel(resolve_body_model(None)).to(device)
    return PoseBertTrainer(cfg, synthetic_index(1_000_000, 5_000, device), body, device, log=lambda m: None)


def training_step_ms(trainer: PoseBertTrainer, device: torch.device, repeats: int, warmup: int = 2) -> float:
    """Median milliseconds of ``trainer.step`` after ``warmup`` steps (the first compiles, with ``compile``)."""
    g = torch.Generator(device=device).manual_seed(0)
    return measure_ms(lambda: trainer.step(g), device, repeats=repeats, warmup=warmup)


def random_sequence(frames: int, device: torch.device) -> torch.Tensor:
    """(frames, 24, 3, 3) rotations to refine (random: speed does not depend on them)."""
    g = torch.Generator().manual_seed(0)
    return axis_angle_to_matrix(0.3 * torch.randn(frames, 24, 3, generator=g)).to(device)


def refinement_ms(model, poses: torch.Tensor, window: int, stride: int | None, batch_size: int,
                  device: torch.device) -> float:
    """Milliseconds of one offline ``refine`` of ``poses`` (``stride`` None: the default, T // 4)."""
    return measure_ms(lambda: refine(poses, model, window=window, stride=stride, batch_size=batch_size),
                      device, repeats=1, warmup=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=1024, help="training windows per step")
    parser.add_argument("--frames", type=int, default=18_000, help="sequence refined offline, batched")
    parser.add_argument("--loop-frames", type=int, default=600, help="sequence refined one forward pass per frame")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="posebert.compile=true for the training step")
    args = parser.parse_args()
    device = torch.device(args.device)
    where = device_name(device)
    rows = []

    trainer = build_trainer(device, args.batch, overrides=[f"posebert.compile={args.compile}"])
    ms = training_step_ms(trainer, device, args.repeats)
    rows.append({"operation": f"training step, paper model, {args.batch} windows of T=16"
                              + (", compiled" if args.compile else ""), "device": where,
                 "ms": f"{ms:,.1f}", "throughput": f"{args.batch / ms * 1000:,.0f} sequences/s"})

    poses = random_sequence(args.frames, device)
    for name, model, window in (("paper model, T=16", build_posebert("paper"), 16),
                                ("released architecture, window 64", build_posebert("released"), 64)):
        model = model.to(device).eval()
        for design, frames, stride, batch_size in (
                (f"windows {window // 4} frames apart (default), batched by 1024", args.frames, None, 1024),
                ("every window, batched by 1024", args.frames, 1, 1024),
                ("one forward pass per window", args.loop_frames, 1, 1)):
            ms = refinement_ms(model, poses[:frames], window, stride, batch_size, device)
            rows.append({"operation": f"offline refinement, {name}, {design}, {frames:,} frames", "device": where,
                         "ms": f"{ms:,.1f}", "throughput": f"{frames / ms * 1000:,.0f} frames/s"})
    print(f"torch {torch.__version__}")
    print_table(rows)


if __name__ == "__main__":
    main()
