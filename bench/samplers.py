"""Sampler speed: python bench/samplers.py [--device cuda] [--frames 1000000]

Prints a Markdown table: 64 poses + cameras + crops (a MoCap-SPIN batch's synthetic half
and more), and 1024 PoseBERT windows of T=16 with masking and noise, on a corpus resident
on the device (random poses; the samplers' cost does not depend on the values).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

# run as a script: the repository root, not bench/ (whose samplers.py is this file), goes on the path
sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench.timing import device_name, measure_ms, print_table  # noqa: E402
from mocap_hmr.data.motion_index import MotionIndex  # noqa: E402
from samplers import CameraSampler, CropSampler, PoseSampler, SequenceSampler  # noqa: E402


def synthetic_index(frames: int, sequences: int, device: torch.device) -> MotionIndex:
    g = torch.Generator().manual_seed(0)
    cuts = torch.sort(torch.randperm(frames - 1, generator=g)[: sequences - 1] + 1).values
    offsets = torch.cat([torch.tensor([0]), cuts, torch.tensor([frames])])
    return MotionIndex(
        poses=(0.3 * torch.randn(frames, 24, 3, generator=g)).to(device),
        trans=torch.randn(frames, 3, generator=g).to(device),
        offsets=offsets.to(device), betas=torch.randn(sequences, 10, generator=g).to(device),
        gender=["neutral"] * sequences, source_fps=torch.full((sequences,), 120.0, dtype=torch.float64).to(device),
        names=[f"seq{i}" for i in range(sequences)], fps=30.0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--sequences", type=int, default=5_000)
    args = parser.parse_args()
    device = torch.device(args.device)
    index = synthetic_index(args.frames, args.sequences, device)
    g = torch.Generator(device=device).manual_seed(0)
    poses, cameras, crops = PoseSampler(index), CameraSampler(), CropSampler()
    windows = SequenceSampler(index, window=16, masked_frames=2, noise_std=0.05)
    joints2d = 224 * torch.rand(64, 24, 2, device=device, generator=g)

    def spin_batch():
        poses.sample(64, g)
        cameras.sample(64, g)
        crops.sample(joints2d, g)

    rows = []
    for name, fn, batch in (("64 poses + cameras + crops", spin_batch, 64),
                            ("64 poses", lambda: poses.sample(64, g), 64),
                            ("64 cameras", lambda: cameras.sample(64, g), 64),
                            ("64 crops", lambda: crops.sample(joints2d, g), 64),
                            ("1024 windows T=16, masking + noise", lambda: windows.sample(1024, g), 1024)):
        ms = measure_ms(fn, device)
        rows.append({"operation": name, "device": device_name(device), "ms": f"{ms:.3f}",
                     "samples/s": f"{batch / ms * 1000:,.0f}"})
    print(f"corpus: {args.frames:,} frames in {args.sequences:,} sequences, torch {torch.__version__}")
    print_table(rows)


if __name__ == "__main__":
    main()
