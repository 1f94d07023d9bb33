"""PoseBERT speed: python bench/posebert.py [--device cuda] [--batch 1024] [--frames 18000]

Prints a Markdown table: training steps (the paper's model, T=16, Dt=512, L=4; windows from
the device-resident SequenceSampler with masking and noise; L2 loss on rotation matrices;
Adam; bf16 autocast on CUDA) and refinement of one sequence offline, batched (windows T // 4
frames apart, the default, or every one of the N - T + 1 windows, in forward passes of 1024),
against the release demo's design of one forward pass per window (the demo even runs one per
frame; on a shorter sequence), for the paper's model
(T=16) and the released architecture (window 64). Weights are random: speed does not depend
on them.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

import torch

# run as a script: the repository root, not bench/ (whose posebert.py is this file), goes on the path
sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench.samplers import synthetic_index  # noqa: E402
from bench.timing import device_name, measure_ms, print_table  # noqa: E402
from mocap_hmr.geometry import axis_angle_to_matrix, axis_angle_to_rot6d  # noqa: E402
from mocap_hmr.models.posebert import build_posebert  # noqa: E402
from mocap_hmr.posebert import refine  # noqa: E402
from samplers import SequenceSampler  # noqa: E402


def training_step_ms(device: torch.device, batch: int, repeats: int) -> float:
    index = synthetic_index(1_000_000, 5_000, device)
    sampler = SequenceSampler(index, window=16, masked_frames=2, noise_std=0.05)
    g = torch.Generator(device=device).manual_seed(0)
    model = build_posebert("paper").to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()

    def step():
        windows = sampler.sample(batch, g)
        with autocast:
            out = model(axis_angle_to_rot6d(windows["inputs"]), windows["observed"])
            loss = (out.rotmat.float() - axis_angle_to_matrix(windows["poses"])).square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return measure_ms(step, device, repeats=repeats, warmup=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=1024, help="training windows per step")
    parser.add_argument("--frames", type=int, default=18_000, help="sequence refined offline, batched")
    parser.add_argument("--loop-frames", type=int, default=600, help="sequence refined one forward pass per frame")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    device = torch.device(args.device)
    where = device_name(device)
    rows = []

    ms = training_step_ms(device, args.batch, args.repeats)
    rows.append({"operation": f"training step, paper model, {args.batch} windows of T=16", "device": where,
                 "ms": f"{ms:,.1f}", "throughput": f"{args.batch / ms * 1000:,.0f} sequences/s"})

    g = torch.Generator().manual_seed(0)
    poses = axis_angle_to_matrix(0.3 * torch.randn(args.frames, 24, 3, generator=g)).to(device)
    for name, model, window in (("paper model, T=16", build_posebert("paper"), 16),
                                ("released architecture, window 64", build_posebert("released"), 64)):
        model = model.to(device).eval()
        for design, frames, stride, batch_size in (
                (f"windows {window // 4} frames apart (default), batched by 1024", args.frames, None, 1024),
                ("every window, batched by 1024", args.frames, 1, 1024),
                ("one forward pass per window", args.loop_frames, 1, 1)):
            def run(frames=frames, model=model, window=window, stride=stride, batch_size=batch_size):
                refine(poses[:frames], model, window=window, stride=stride, batch_size=batch_size)

            ms = measure_ms(run, device, repeats=1, warmup=0)
            rows.append({"operation": f"offline refinement, {name}, {design}, {frames:,} frames", "device": where,
                         "ms": f"{ms:,.1f}", "throughput": f"{frames / ms * 1000:,.0f} frames/s"})
    print(f"torch {torch.__version__}")
    print_table(rows)


if __name__ == "__main__":
    main()
