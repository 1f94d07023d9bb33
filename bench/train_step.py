"""MoCap-SPIN step speed: python bench/train_step.py [--device cuda] [--config FILE] [--backbone B] [--size S]

Whole training steps (``MocapSpinTrainer.step``; by default the paper's setting, the
configuration schema's defaults: ResNet-50, batch 64 of which 32 rendered at 224 px,
BN-only), each timed by phase as it runs: render (the synthetic half), real data (the
reference-domain half, until SPIN's loader is wired in), forward (HMR, the body model on
the predictions, the losses), backward, optimizer (device work synchronised at each
phase's end); samples/s beside the paper's figure (about 25 samples/s on a V100, limited
by a CPU loader). ``--config configs/default.yaml``: the tiny default instead; ``--compile``:
``mocap_spin.compile=true``. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench.timing import PhaseTimer, device_name, print_table  # noqa: E402
from mocap_hmr.body import BodyModel  # noqa: E402
from mocap_hmr.body.standin import resolve_body_model  # noqa: E402
from mocap_hmr.config import load_config  # noqa: E402
from mocap_hmr.training.mocap_spin import PHASES, MocapSpinTrainer  # noqa: E402
from mocap_hmr.training.runner import build_mocap_spin  # noqa: E402

PAPER_SAMPLES_PER_S = 25.0  # the paper: 14k steps of 64 in about 10 h on a V100


def build_trainer(device: torch.device, config_file: str | None = None, overrides: list[str] = ()) -> MocapSpinTrainer:
    """A trainer on the stand-in body (or $SMPL_DIR) and the default corpus, configured like
    ``train.py``: the schema's defaults, ``config_file``, then ``key=value`` overrides."""
    cfg = load_config(config_file, [f"device={device}", *overrides])
    body = BodyModel(resolve_body_model(None)).to(device)
    return build_mocap_spin(cfg, body, device, log=lambda m: None)


def step_breakdown(trainer: MocapSpinTrainer, device: torch.device, repeats: int, warmup: int = 1) -> dict[str, float]:
    """Median milliseconds of each of ``PHASES`` and of the whole ``step`` over ``repeats``
    steps, after ``warmup`` untimed ones (the first compiles, with ``compile``)."""
    g = torch.Generator(device=device).manual_seed(0)
    for _ in range(warmup):
        trainer.step(g)
    timer, label = PhaseTimer(device), trainer.phase
    trainer.phase = timer
    try:
        for _ in range(repeats):
            with timer("step"):
                trainer.step(g)
    finally:
        trainer.phase = label
    return timer.medians()


def samples_per_s(trainer: MocapSpinTrainer, times: dict[str, float]) -> float:
    return trainer.cfg.batch_size / times["step"] * 1000


def setting(trainer: MocapSpinTrainer) -> str:
    """The configuration in words: backbone, size, batch, trainable, compile."""
    cfg, size = trainer.cfg, trainer.synthetic.size
    return (f"{cfg.backbone}, {size} px, batch {cfg.batch_size} ({trainer.n_synthetic} rendered), "
            f"'{cfg.trainable}'" + (", compiled" if cfg.compile else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--config", help="a training preset (default: the schema's defaults, the paper's setting)")
    parser.add_argument("--backbone", help="mocap_spin.backbone")
    parser.add_argument("--size", type=int, help="render.image_size")
    parser.add_argument("--batch", type=int, help="mocap_spin.batch_size")
    parser.add_argument("--trainable", help="mocap_spin.trainable")
    parser.add_argument("--compile", action="store_true", help="mocap_spin.compile=true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = torch.device(args.device)
    keys = {"backbone": "mocap_spin.backbone", "size": "render.image_size", "batch": "mocap_spin.batch_size",
            "trainable": "mocap_spin.trainable", "compile": "mocap_spin.compile"}
    overrides = [f"{key}={getattr(args, name)}" for name, key in keys.items() if getattr(args, name)]
    trainer = build_trainer(device, args.config, overrides)
    times = step_breakdown(trainer, device, args.repeats)
    samples = samples_per_s(trainer, times)
    print(f"torch {torch.__version__}; {setting(trainer)}; median of {args.repeats} steps")
    print_table([{
        "device": device_name(device), **{f"{phase} ms": f"{times[phase]:.1f}" for phase in PHASES},
        "step ms": f"{times['step']:.0f}", "render share": f"{100 * times['render'] / times['step']:.0f}%",
        "samples/s": f"{samples:.1f}", "vs paper (25/s)": f"{samples / PAPER_SAMPLES_PER_S:.2f}x",
    }])


if __name__ == "__main__":
    main()
