"""Which PoseBERT generalises: train one on the embedded default's motion corpus and score
it, beside the plain filters, on the generalisation benchmark (every procedural family and
randomly turned motion, ``evaluation.embedded.generalisation_set``).

    python bench/posebert_generalisation.py [--steps 300] [--out FILE.json] [key=value ...]

``key=value``: any ``train.py`` key (``posebert.*`` above all; ``configs/default.yaml`` is the
base, so its PoseBERT, its ``posebert.exclude`` split and its seed are the defaults). Prints
per motion group MPJPE / PA-MPJPE / acceleration error of the corrupted input, each filter
and PoseBERT, and the summary the targets are read from: means over the unseen families,
over the trained-on families, and on the turned motion. The trained model is written to
``--save`` when given.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path[0] = str(Path(__file__).resolve().parents[1])
from mocap_hmr.body import BodyModel  # noqa: E402
from mocap_hmr.body.standin import resolve_body_model  # noqa: E402
from mocap_hmr.config import DEFAULT_CONFIG, load_config  # noqa: E402
from mocap_hmr.evaluation.run import embedded_generalisation, smpl_protocol  # noqa: E402
from mocap_hmr.models.posebert import save_posebert  # noqa: E402
from mocap_hmr.training.posebert_step import PoseBertTrainer  # noqa: E402
from mocap_hmr.training.runner import load_motion  # noqa: E402

METRICS = ("mpjpe", "pa_mpjpe", "accel_error")


def train_posebert(cfg, steps: int, log=print) -> PoseBertTrainer:
    """``steps`` PoseBERT updates as ``train.py`` runs them (on the CPU), seeded by ``cfg.seed``."""
    torch.manual_seed(cfg.seed)
    device = torch.device("cpu")
    body = BodyModel(resolve_body_model(cfg.body.model_path, log=log)).to(device)
    trainer = PoseBertTrainer(cfg.posebert, load_motion(cfg, device, log), body, device, log=log)
    generator = torch.Generator().manual_seed(cfg.seed)
    started = time.perf_counter()
    for step in range(steps):
        terms = trainer.step(generator)
        if (step + 1) % max(steps // 10, 1) == 0:
            log(f"step {step + 1}/{steps}: loss {terms['loss']:.4f} ({time.perf_counter() - started:.0f} s)")
    return trainer


def summary(results) -> dict[str, dict[str, dict[str, float]]]:
    """{"unseen" | "trained on" | "turned": {method: {metric: mean over the groups}}}."""
    parts: dict[str, dict[str, list]] = {}
    for r in results:
        part = "turned" if r.benchmark.startswith("turned") else r.benchmark.split("(")[1].rstrip(")")
        for metric in METRICS:
            parts.setdefault(part, {}).setdefault(r.method, {}).setdefault(metric, []).append(r.metrics[metric])
    return {part: {m: {k: float(np.mean(v)) for k, v in ms.items()} for m, ms in methods.items()}
            for part, methods in parts.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="PoseBERT steps (default: posebert.iterations)")
    parser.add_argument("--out", help="also write the per-group and summary numbers as JSON")
    parser.add_argument("--save", help="write the trained PoseBERT here")
    parser.add_argument("--no-filters", action="store_true", help="score PoseBERT and the input only (faster)")
    parser.add_argument("overrides", nargs="*")
    args = parser.parse_args()
    cfg = load_config(DEFAULT_CONFIG, ["device=cpu", *args.overrides])
    steps = args.steps or cfg.posebert.iterations
    started = time.perf_counter()
    trainer = train_posebert(cfg, steps)
    trained_s = time.perf_counter() - started
    if args.save:
        save_posebert(trainer.model, args.save, trainer.model_config)
    body = BodyModel(resolve_body_model(cfg.body.model_path))
    results = embedded_generalisation(cfg, body, trainer.model.eval(), smpl_protocol(cfg.eval.align), print,
                                      filters=not args.no_filters)
    methods = list(dict.fromkeys(r.method for r in results))
    by = {(r.benchmark, r.method): r.metrics for r in results}
    print(f"\n{steps} steps in {trained_s:.0f} s; {' '.join(args.overrides)}")
    print("| motion | " + " | ".join(methods) + " |  (MPJPE / accel, mm)")
    for group in dict.fromkeys(r.benchmark for r in results):
        print(f"| {group} | " + " | ".join(f"{by[group, m]['mpjpe']:.1f} / {by[group, m]['accel_error']:.1f}"
                                           for m in methods) + " |")
    parts = summary(results)
    for part, per_method in parts.items():
        print(f"{part}: " + "; ".join(f"{m} {v['mpjpe']:.1f}/{v['pa_mpjpe']:.1f}/{v['accel_error']:.1f}"
                                      for m, v in per_method.items()))
    if args.out:
        Path(args.out).write_text(json.dumps({"steps": steps, "train_s": trained_s, "overrides": args.overrides,
                                              "summary": parts, "groups": {f"{b} | {m}": v for (b, m), v in
                                                                           by.items()}}, indent=1))


if __name__ == "__main__":
    main()
