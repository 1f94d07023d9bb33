"""Where a MoCap-SPIN step's time goes: python bench/profile_step.py [--device cuda] [--config FILE] [key=value ...]

One training step (after ``--warmup`` steps) under torch.profiler, configured like
``train.py`` (default: the schema's, the paper's setting; ``--config configs/default.yaml``:
the tiny default): for each phase of the step (the trainer's profiler labels), its time and
the operators that took the most self time in it (CPU time; on CUDA, kernel time too).
Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench import train_step  # noqa: E402
from bench.timing import device_name, print_table  # noqa: E402
from mocap_hmr.training.mocap_spin import PHASES  # noqa: E402

LABEL = "mocap_spin/"


def profiled_step(trainer, device: torch.device, warmup: int):
    """The profiler's events of one step after ``warmup`` unprofiled ones."""
    g = torch.Generator(device=device).manual_seed(0)
    for _ in range(warmup):
        trainer.step(g)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        trainer.step(g)
    return prof.events()


def ops_by_phase(events) -> tuple[dict[str, float], dict[str, dict[str, list[float]]]]:
    """Phase wall times (ms), and per phase each operator's [calls, self CPU ms, self device ms]
    (an operator belongs to the phase label it starts in)."""
    labels = [e for e in events if e.name.startswith(LABEL)]
    phase_ms = {e.name[len(LABEL):]: e.time_range.elapsed_us() / 1000 for e in labels}
    ops = defaultdict(lambda: defaultdict(lambda: [0, 0.0, 0.0]))
    for e in events:
        if not e.name.startswith("aten::"):
            continue
        phase = next((label.name[len(LABEL):] for label in labels
                      if label.time_range.start <= e.time_range.start <= label.time_range.end), "other")
        entry = ops[phase][e.name]
        entry[0] += 1
        entry[1] += e.self_cpu_time_total / 1000
        entry[2] += e.self_device_time_total / 1000
    return phase_ms, ops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--config", help="a training preset (default: the schema's defaults, the paper's setting)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--top", type=int, default=5, help="operators listed per phase")
    parser.add_argument("overrides", nargs="*", help="key=value, e.g. mocap_spin.compile=true")
    args = parser.parse_args()
    device = torch.device(args.device)
    trainer = train_step.build_trainer(device, args.config, args.overrides)
    phase_ms, ops = ops_by_phase(profiled_step(trainer, device, args.warmup))
    rows = []
    for phase in (*PHASES, "other"):
        top = sorted(ops[phase].items(), key=lambda item: -max(item[1][1], item[1][2]))[: args.top]
        listed = "; ".join(f"{name[6:]} x{calls}: {cpu:,.0f}" + (f" / {gpu:,.0f}" if device.type == "cuda" else "")
                           for name, (calls, cpu, gpu) in top)
        rows.append({"phase": phase, "ms": f"{phase_ms[phase]:,.0f}" if phase in phase_ms else "",
                     "aten ops": sum(calls for calls, _, _ in ops[phase].values()),
                     "top operators: calls, self ms" + (" CPU / GPU" if device.type == "cuda" else ""): listed})
    print(f"torch {torch.__version__}; {device_name(device)}; {train_step.setting(trainer)}; one step under "
          f"torch.profiler (slower than without it)")
    print_table(rows)


if __name__ == "__main__":
    main()
