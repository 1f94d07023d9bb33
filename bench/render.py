"""Renderer speed: python bench/render.py [--device cuda] [--sizes 128 224] [--batch 32] [--backends ...]

Renders/s of SyntheticRenderer batches with the stand-in body (or $SMPL_DIR) and the
default corpus, per backend (default: those worth timing on the device, see ``backends``),
with the time of each stage: sampling (poses, cameras), skinning + placement + crops,
rasterization, shading (textures, light, background, compositing), augmentation. Prints a
Markdown table. pytorch3d on the CPU (``--backends pytorch3d``) is its naive reference
kernel, minutes per batch of 32: time it with a small batch and few repeats.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path[0] = str(Path(__file__).resolve().parents[1])
from bench.timing import device_name, measure_ms, print_table  # noqa: E402
from renderers import pytorch3d_available, rasterize  # noqa: E402
from renderers.build import build_renderer  # noqa: E402


def backends(device: torch.device) -> list[str]:
    """The rasterizer backends worth timing on ``device``: torch, and pytorch3d on CUDA where it imports."""
    return ["torch"] + (["pytorch3d"] if device.type == "cuda" and pytorch3d_available() else [])


def render_ms(renderer, batch: int, device: torch.device, repeats: int, warmup: int = 5) -> float:
    """Median milliseconds of one whole batch (``renderer.sample``)."""
    g = torch.Generator(device=device).manual_seed(0)
    return measure_ms(lambda: renderer.sample(batch, g), device, repeats, warmup)


def stage_times(renderer, batch: int, device: torch.device, repeats: int, warmup: int = 5) -> dict[str, float]:
    g = torch.Generator(device=device).manual_seed(0)
    frames, cams = renderer.poses.sample(batch, g), renderer.views(batch, g)
    scene = renderer.place(frames["pose"], frames["betas"], cams["R"], cams["focal"], g)
    frags = rasterize(scene.verts, renderer.body.faces, renderer.size, scene.focal, scene.principal,
                      backend=renderer.backend)
    images, _ = renderer.shade(scene.verts, frags, g)
    with torch.no_grad():
        return {
            "sampling": measure_ms(lambda: (renderer.poses.sample(batch, g), renderer.views(batch, g)),
                                   device, repeats),
            "skinning+placement": measure_ms(
                lambda: renderer.place(frames["pose"], frames["betas"], cams["R"], cams["focal"], g), device, repeats),
            "rasterization": measure_ms(
                lambda: rasterize(scene.verts, renderer.body.faces, renderer.size, scene.focal, scene.principal,
                                  backend=renderer.backend), device, repeats, warmup),
            "shading": measure_ms(lambda: renderer.shade(scene.verts, frags, g), device, repeats),
            "augmentation": measure_ms(lambda: renderer.augment(images, g), device, repeats),
            "total": render_ms(renderer, batch, device, repeats, warmup),
        }


def _rate(per_s: float) -> str:
    """A rate for the table: whole numbers from 10 up, two decimals below (pytorch3d on the CPU)."""
    return f"{per_s:,.0f}" if per_s >= 10 else f"{per_s:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 224])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=5, help="untimed calls before the rasterization and total")
    parser.add_argument("--backends", nargs="+", choices=("torch", "pytorch3d"),
                        help="default: torch, and pytorch3d on CUDA where it imports")
    args = parser.parse_args()
    device = torch.device(args.device)
    rows = []
    for backend in args.backends or backends(device):
        for size in args.sizes:
            renderer = build_renderer(image_size=size, backend=backend, device=device)
            times = stage_times(renderer, args.batch, device, args.repeats, args.warmup)
            rows.append({"backend": backend, "size": size, "batch": args.batch, "device": device_name(device),
                         "renders/s": _rate(args.batch / times["total"] * 1000),
                         **{f"{k} ms": f"{v:.1f}" for k, v in times.items()}})
    print(f"torch {torch.__version__}; pytorch3d extension loads: {pytorch3d_available()}; "
          f"body: {renderer.body.num_vertices} vertices, {renderer.body.faces.shape[0]} faces")
    print_table(rows)


if __name__ == "__main__":
    main()
