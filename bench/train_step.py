"""MoCap-SPIN step speed: python bench/train_step.py [--device cuda] [--backbone resnet50] [--size 224]

One training step (batch 64, half rendered; BN-only) split into render (synthetic half),
real data (the reference-domain half, until SPIN's loader is wired in), forward, backward,
optimizer; samples/s beside the paper's figure (about 25 samples/s on a V100, limited by
a CPU loader). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench.timing import device_name, measure_ms, print_table  # noqa: E402
from mocap_hmr.body import BodyModel  # noqa: E402
from mocap_hmr.body.standin import resolve_body_model  # noqa: E402
from mocap_hmr.config import load_config  # noqa: E402
from mocap_hmr.training.mocap_spin import MocapSpinTrainer  # noqa: E402
from mocap_hmr.training.runner import build_streams  # noqa: E402

PAPER_SAMPLES_PER_S = 25.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--backbone", default="resnet50")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--trainable", default="bn")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    device = torch.device(args.device)
    cfg = load_config(None, [f"device={args.device}", f"render.image_size={args.size}",
                             f"mocap_spin.backbone={args.backbone}", f"mocap_spin.batch_size={args.batch}",
                             f"mocap_spin.trainable={args.trainable}"])
    body = BodyModel(resolve_body_model(None)).to(device)
    synthetic, real = build_streams(cfg, body, device, log=lambda m: None)
    trainer = MocapSpinTrainer(cfg.mocap_spin, body, synthetic, real, device, log=lambda m: None)
    g = torch.Generator(device=device).manual_seed(0)
    n_syn = trainer.n_synthetic
    batch = trainer.batch(g)
    trainer.model.train()

    def forward():
        return trainer.losses(batch)["loss"]

    def backward():
        trainer.optimizer.zero_grad(set_to_none=True)
        forward().backward()

    with torch.no_grad():
        render_ms = measure_ms(lambda: synthetic.render(n_syn, g), device, args.repeats, warmup=1)
        real_ms = measure_ms(lambda: real.render(args.batch - n_syn, g), device, args.repeats, warmup=1)
        forward_ms = measure_ms(forward, device, args.repeats, warmup=1)
    forward_backward_ms = measure_ms(backward, device, args.repeats, warmup=1)
    optimizer_ms = measure_ms(trainer.optimizer.step, device, args.repeats, warmup=1)
    step_ms = measure_ms(lambda: trainer.step(g), device, args.repeats, warmup=1)
    samples = args.batch / step_ms * 1000
    print(f"torch {torch.__version__}; {args.backbone} at {args.size} px, batch {args.batch} ({n_syn} rendered), "
          f"trainable '{args.trainable}'")
    print_table([{
        "device": device_name(device), "render ms": f"{render_ms:.0f}", "real data ms": f"{real_ms:.0f}",
        "forward ms": f"{forward_ms:.0f}", "backward ms": f"{forward_backward_ms - forward_ms:.0f}",
        "optimizer ms": f"{optimizer_ms:.1f}", "step ms": f"{step_ms:.0f}", "samples/s": f"{samples:.1f}",
        "vs paper (25/s)": f"{samples / PAPER_SAMPLES_PER_S:.2f}x",
    }])


if __name__ == "__main__":
    main()
