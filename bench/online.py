"""Online (causal) PoseBERT on a live stream: python bench/online.py [--device cpu] [--frames 200]

Prints a Markdown table, per model (the paper's, T=16, Dt=512, L=4; and the default preset's
small one, Dt=64, L=2, 4 heads, T=16):

- a recorded sequence refined online in one call, ``refine(..., mode="online")`` (what
  ``mocap-hmr smooth --mode online`` runs): frames per second;
- a live stream, frame by frame, of 1 and of 4 people: each new frame is appended to every
  person's buffer and ``refine_latest`` refines the newest frame of all of them in one
  forward pass (T frames each); latency per frame (median) and the frames per second it
  sustains;
- the same stream of 1 person through ``refine(buffer, mode="online")[-1]``, which computes
  every frame of the buffer to read the last: what the batched API costs when misused live.

Weights are random: speed does not depend on them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench.timing import device_name, print_table, sync  # noqa: E402
from mocap_hmr.geometry import axis_angle_to_matrix  # noqa: E402
from mocap_hmr.models.posebert import build_posebert  # noqa: E402
from mocap_hmr.refinement import refine, refine_latest  # noqa: E402

WINDOW = 16
MODELS = {"paper model (Dt=512, L=4)": {}, "default preset model (Dt=64, L=2)": {"dim": 64, "depth": 2, "heads": 4}}


def stream_ms(step, frames: int, device: torch.device) -> list[float]:
    """Milliseconds of ``step(t)`` for each frame t of a stream (after 20 warm-up frames: the
    first calls of a batch shape on the CPU are several times slower)."""
    for t in range(20):
        step(t)
    times = []
    for t in range(frames):
        sync(device)
        start = time.perf_counter()
        step(t)
        sync(device)
        times.append((time.perf_counter() - start) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--frames", type=int, default=200, help="frames streamed per measurement")
    parser.add_argument("--recorded", type=int, default=3000, help="frames of the recorded sequence")
    args = parser.parse_args()
    device = torch.device(args.device)
    where = device_name(device)
    g = torch.Generator().manual_seed(0)
    video = axis_angle_to_matrix(0.3 * torch.randn(4, args.recorded, 24, 3, generator=g)).to(device)
    rows = []
    for name, sizes in MODELS.items():
        model = build_posebert("paper", **sizes).to(device).eval()
        sync(device)
        start = time.perf_counter()
        refine(video[0], model, mode="online", window=WINDOW)
        sync(device)
        seconds = time.perf_counter() - start
        rows.append({"model": name, "use": f"recorded sequence, one refine(mode=online) call, {args.recorded:,} frames",
                     "latency per frame (ms)": "-", "frames/s": f"{args.recorded / seconds:,.0f}"})
        for people in (1, 4):
            def live(t, people=people, model=model):
                return refine_latest(video[:people, max(0, t + 1 - WINDOW):t + 1], model, window=WINDOW)
            ms = statistics.median(stream_ms(live, args.frames, device))
            rows.append({"model": name, "use": f"live stream, {people} {'person' if people == 1 else 'people'}, "
                                               "refine_latest", "latency per frame (ms)": f"{ms:.2f}",
                         "frames/s": f"{1000 / ms:,.0f}"})

        def naive(t, model=model):
            return refine(video[0, max(0, t + 1 - WINDOW):t + 1], model, mode="online", window=WINDOW)[-1]
        ms = statistics.median(stream_ms(naive, args.frames, device))
        rows.append({"model": name, "use": "live stream, 1 person, refine(buffer, mode=online)[-1]",
                     "latency per frame (ms)": f"{ms:.2f}", "frames/s": f"{1000 / ms:,.0f}"})
    print(f"torch {torch.__version__}, {where}, window T={WINDOW}")
    print_table(rows)


if __name__ == "__main__":
    main()
