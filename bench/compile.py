"""torch.compile's cost and gain: python bench/compile.py [--device cuda] [--repeats 3] [--cases 0 1 2 3]

For MoCap-SPIN with the tiny default (configs/default.yaml) and with ResNet-50 (the paper's
setting), and PoseBERT with the default's small model and with the paper's: the first
training step (compilation included) and the median step after it, plain and with
``compile=true``. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench import posebert, train_step  # noqa: E402
from bench.timing import device_name, measure_ms, print_table, sync  # noqa: E402
from mocap_hmr.config import DEFAULT_CONFIG  # noqa: E402

DEFAULT = str(DEFAULT_CONFIG)
CASES = (  # name, trainer(device, compile)
    ("MoCap-SPIN, tiny default (configs/default.yaml: 64 px, batch 16, 'all')",
     lambda device, on: train_step.build_trainer(device, DEFAULT, [f"mocap_spin.compile={on}"])),
    ("MoCap-SPIN, ResNet-50, 224 px, batch 64 (32 rendered), 'bn'",
     lambda device, on: train_step.build_trainer(device, None, [f"mocap_spin.compile={on}"])),
    ("PoseBERT, default small model (Dt=64, L=2), batch 64",
     lambda device, on: posebert.build_trainer(device, 64, DEFAULT, [f"posebert.compile={on}"])),
    ("PoseBERT, paper model (Dt=512, L=4), batch 1024",
     lambda device, on: posebert.build_trainer(device, 1024, None, [f"posebert.compile={on}"])),
)


def first_and_steady(trainer, device: torch.device, repeats: int) -> tuple[float, float]:
    """Seconds of the first step, and the median milliseconds of ``repeats`` steps after a second one."""
    g = torch.Generator(device=device).manual_seed(0)
    sync(device)
    start = time.perf_counter()
    trainer.step(g)
    sync(device)
    first = time.perf_counter() - start
    return first, measure_ms(lambda: trainer.step(g), device, repeats, warmup=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", type=int, nargs="+", default=list(range(len(CASES))), help="which rows")
    args = parser.parse_args()
    device = torch.device(args.device)
    rows = []
    for name, build in (CASES[i] for i in args.cases):
        (plain_first, plain_ms), (compiled_first, compiled_ms) = (
            first_and_steady(build(device, on), device, args.repeats) for on in (False, True))
        rows.append({"model": name, "device": device_name(device), "first step s": f"{plain_first:.1f}",
                     "first step s, compiled": f"{compiled_first:.1f}",
                     "compilation s (difference)": f"{compiled_first - plain_first:.1f}",
                     "step ms": f"{plain_ms:,.1f}", "step ms, compiled": f"{compiled_ms:,.1f}",
                     "speed-up": f"{plain_ms / compiled_ms:.2f}x"})
    print(f"torch {torch.__version__}; median of {args.repeats} steps after the first two")
    print_table(rows)


if __name__ == "__main__":
    main()
