"""All the speed figures in one table: python bench/run_all.py [--device cuda cpu] [--quick] [--compile]

Per device: renders/s (batch 32 at 224 px, stand-in body; the torch backend, and pytorch3d
where it imports on CUDA), MoCap-SPIN samples/s (ResNet-50, batch 64 of which 32 rendered
at 224 px, BN-only) with its step's phases, PoseBERT training sequences/s (the paper's model:
T=16, Dt=512, L=4; batch 1024) and offline refinement frames/s (18,000 frames, the paper's
model, the default stride), each with the peak memory while it ran, beside the paper's
figure where there is one and the project's speed goals (met: only judged on the device a goal
is set for). The measurements are the other scripts' (render.py, train_step.py,
posebert.py). ``--quick``: fewer repeats and a shorter refined sequence (a few minutes on 2
CPU cores); ``--compile``: both trainers with ``compile=true``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench import posebert, render, train_step  # noqa: E402
from bench.timing import device_name, memory_kind, peak_memory_mb, print_table, reset_peak_memory  # noqa: E402
from mocap_hmr.models.posebert import build_posebert  # noqa: E402
from mocap_hmr.training.mocap_spin import PHASES  # noqa: E402
from renderers.build import build_renderer  # noqa: E402

RENDER_BATCH, RENDER_SIZE, POSEBERT_BATCH = 32, 224, 1024


@dataclass(frozen=True)
class Goal:
    """``value`` (at least, or at most with ``at_most``) on a device whose name contains ``where``."""

    where: str
    value: float
    at_most: bool = False

    def text(self) -> str:
        return f"{'≤' if self.at_most else '≥'} {self.value:,.0f} ({self.where})"

    def met(self, device: str, ours: float) -> str:
        if self.where not in device:
            return "n/a"
        return "yes" if (ours <= self.value if self.at_most else ours >= self.value) else "no"


GOALS = {  # the project's speed goals (docs/benchmarks.md)
    "renders pytorch3d": [Goal("H100", 10_000)],
    "samples": [Goal("H100", 1_500)],
    "render share": [Goal("H100", 25, at_most=True)],
    "sequences": [Goal("H100", 100_000)],
    "refinement": [Goal("H100", 18_000), Goal("CPU", 1_800)],  # 18,000 frames in 1 s / in 10 s on 2 cores
}


@dataclass(frozen=True)
class Repeats:
    render: int
    step: int
    posebert: int
    refined_frames: int


FULL = Repeats(render=10, step=3, posebert=5, refined_frames=18_000)
QUICK = Repeats(render=3, step=1, posebert=1, refined_frames=4_500)


def row(device: torch.device, measure: str, ours: float, unit: str, goals: str | None = None,
        paper: float | None = None, detail: str = "") -> dict:
    """One line of the table; the peak memory is read now (reset before the measurement)."""
    where = device_name(device)
    goal_list = GOALS.get(goals, [])
    return {
        "device": where, "measure": measure, "ours": f"{ours:,.1f} {unit}",
        "paper": "" if paper is None else f"{paper:g} {unit} (V100)",
        "ours / paper": "" if paper is None else f"{ours / paper:.2f}x",
        "goal": ", ".join(g.text() for g in goal_list), "met": ", ".join(g.met(where, ours) for g in goal_list),
        "peak memory MB": f"{peak_memory_mb(device):,.0f}", "detail": detail,
    }


def render_rows(device: torch.device, repeats: Repeats) -> list[dict]:
    rows = []
    for backend in render.backends(device):
        reset_peak_memory(device)
        renderer = build_renderer(image_size=RENDER_SIZE, backend=backend, device=device)
        ms = render.render_ms(renderer, RENDER_BATCH, device, repeats.render, warmup=1)
        rows.append(row(device, f"renders, {backend} backend, batch {RENDER_BATCH}, {RENDER_SIZE} px",
                        RENDER_BATCH / ms * 1000, "renders/s", goals=f"renders {backend}",
                        detail=f"{ms:,.0f} ms per batch"))
    return rows


def mocap_spin_rows(device: torch.device, repeats: Repeats, compile: bool) -> list[dict]:
    reset_peak_memory(device)
    trainer = train_step.build_trainer(device, overrides=[f"mocap_spin.compile={compile}"])
    times = train_step.step_breakdown(trainer, device, repeats.step)
    phases = " / ".join(f"{phase} {times[phase]:,.0f}" for phase in PHASES)
    share = 100 * times["render"] / times["step"]
    return [row(device, f"MoCap-SPIN training, {train_step.setting(trainer)}", train_step.samples_per_s(trainer, times),
                "samples/s", goals="samples", paper=train_step.PAPER_SAMPLES_PER_S,
                detail=f"step {times['step']:,.0f} ms: {phases} ms"),
            row(device, "MoCap-SPIN: rendering's share of the step", share, "%", goals="render share")]


def posebert_rows(device: torch.device, repeats: Repeats, compile: bool) -> list[dict]:
    reset_peak_memory(device)
    trainer = posebert.build_trainer(device, POSEBERT_BATCH, overrides=[f"posebert.compile={compile}"])
    ms = posebert.training_step_ms(trainer, device, repeats.posebert, warmup=1)
    training = row(device, f"PoseBERT training, paper model (T=16, Dt=512, L=4), batch {POSEBERT_BATCH}"
                   + (", compiled" if compile else ""), POSEBERT_BATCH / ms * 1000, "sequences/s",
                   goals="sequences", detail=f"{ms:,.0f} ms per step")
    del trainer
    reset_peak_memory(device)
    frames = repeats.refined_frames
    model = build_posebert("paper").to(device).eval()
    ms = posebert.refinement_ms(model, posebert.random_sequence(frames, device), 16, None, 1024, device)
    refinement = row(device, f"PoseBERT offline refinement, paper model, {frames:,} frames, default stride (4)",
                     frames / ms * 1000, "frames/s", goals="refinement", detail=f"{ms / 1000:,.2f} s")
    return [training, refinement]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", nargs="+", default=["cuda" if torch.cuda.is_available() else "cpu"])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, 4,500 refined frames")
    parser.add_argument("--compile", action="store_true", help="mocap_spin.compile and posebert.compile")
    args = parser.parse_args()
    repeats = QUICK if args.quick else FULL
    started, rows = time.perf_counter(), []
    for device in map(torch.device, args.device):
        rows += render_rows(device, repeats)
        rows += mocap_spin_rows(device, repeats, args.compile)
        rows += posebert_rows(device, repeats, args.compile)
    print(f"torch {torch.__version__}; " + ("--quick: " if args.quick else "")
          + f"median of {repeats.render} render batches, {repeats.step} MoCap-SPIN steps (after 1), "
          f"{repeats.posebert} PoseBERT steps (after 1); one refinement of {repeats.refined_frames:,} frames; "
          f"{time.perf_counter() - started:.0f} s in all")
    for device in map(torch.device, args.device):
        print(f"peak memory on {device_name(device)}: {memory_kind(device)}")
    print_table(rows)


if __name__ == "__main__":
    main()
