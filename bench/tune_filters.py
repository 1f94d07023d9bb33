"""Settings of the plain filters (``mocap_hmr.filters.DEFAULTS``), chosen fairly: each filter's
grid below, scored on windows of the *training* corpus (the default procedural corpus,
seed 0, never the held-out test motion) corrupted as the embedded denoising benchmark
corrupts its sequences (limb swaps, 0.1 rad noise, 5% dropped frames; seed 11), each window
seen from a random camera; the setting with the lowest mean joint error wins.

    python bench/tune_filters.py [--windows 64] [--frames 64]

Joint error: mean distance of the 24 SMPL joints (forward kinematics on the body in use,
root-relative), mm. Prints every setting's joint error and acceleration error, best first.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import torch

sys.path[0] = str(Path(__file__).resolve().parents[1])
from mocap_hmr.body import BodyModel  # noqa: E402
from mocap_hmr.body.kinematics import forward_kinematics, turn_root  # noqa: E402
from mocap_hmr.body.standin import resolve_body_model  # noqa: E402
from mocap_hmr.data.default_corpus import default_motion_index  # noqa: E402
from mocap_hmr.data.motion_index import load_index  # noqa: E402
from mocap_hmr.evaluation.embedded import corrupt, random_windows  # noqa: E402
from mocap_hmr.filters import filter_rotations, last_observed  # noqa: E402
from mocap_hmr.geometry import axis_angle_to_matrix  # noqa: E402
from mocap_hmr.geometry.cameras import FLIP  # noqa: E402
from samplers.cameras import CameraSampler  # noqa: E402

GRIDS = {
    "average": [{"window": w} for w in (3, 5, 7, 9, 11, 15)],
    # order 2 and up: a centred Savitzky-Golay filter of order 0 or 1 is the moving average
    "savgol": [{"window": w, "order": o} for w, o in itertools.product((5, 7, 9, 11, 15, 21, 31), (2, 3, 4))
               if o < w],
    "one-euro": [{"min_cutoff": c, "beta": b} for c, b in itertools.product((0.3, 0.5, 1.0, 2.0, 4.0),
                                                                             (0.0, 0.01, 0.05, 0.2, 1.0))],
}
SEED = 11


def validation_windows(windows: int, frames: int):
    """clean, noisy (S, T, 24, 3, 3) rotations seen from cameras, observed (S, T): training-corpus windows."""
    index = load_index(default_motion_index(log=lambda m: None))
    generator = torch.Generator().manual_seed(SEED)
    data = corrupt(random_windows(index, windows, frames, generator)["poses"], 0.1, 0.01, 0.05, generator)
    view = FLIP @ CameraSampler().sample(windows, generator)["R"]
    clean, noisy = (turn_root(axis_angle_to_matrix(p), view) for p in (data["clean"], torch.nan_to_num(data["noisy"])))
    return clean, noisy, data["observed"]


def errors(pred: torch.Tensor, clean: torch.Tensor, rest: torch.Tensor) -> tuple[float, float]:
    """(joint error, acceleration error) in mm between joint sequences (S, T, 24, 3, 3)."""
    a, b = forward_kinematics(pred, rest), forward_kinematics(clean, rest)
    a, b = a - a[..., :1, :], b - b[..., :1, :]
    joint = (a - b).norm(dim=-1).mean()
    accel = ((a[:, :-2] - 2 * a[:, 1:-1] + a[:, 2:]) - (b[:, :-2] - 2 * b[:, 1:-1] + b[:, 2:])).norm(dim=-1).mean()
    return 1000 * float(joint), 1000 * float(accel)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, default=64)
    parser.add_argument("--frames", type=int, default=64)
    args = parser.parse_args()
    clean, noisy, observed = validation_windows(args.windows, args.frames)
    with torch.no_grad():
        rest = BodyModel(resolve_body_model(None))(torch.zeros(1, 24, 3)).joints[0]
    held = noisy[torch.arange(len(noisy))[:, None], last_observed(observed)]
    joint, accel = errors(held, clean, rest)
    print(f"corrupted input: joint error {joint:.1f} mm, accel {accel:.1f}")
    hidden = torch.where(observed[..., None, None, None], noisy, float("nan"))
    for method, grid in GRIDS.items():
        rows = []
        for settings in grid:
            out = torch.stack([filter_rotations(seq, method, **settings) for seq in hidden])
            rows.append((*errors(out, clean, rest), settings))
        rows.sort(key=lambda row: row[0])
        print(f"\n{method}: best {rows[0][2]}")
        for joint, accel, settings in rows[:8]:
            print(f"  {joint:6.1f} mm  accel {accel:6.1f}  {settings}")


if __name__ == "__main__":
    main()
