"""Does the starting model read poses? Its margin over its own mean pose on the real domain's
held-out split (the sequences its build never trained on), the spread of its predictions, its
heading error, and what simple readers of its training poses would score
(``mocap_hmr.evaluation.pose_reading``).

    python bench/pose_reading.py [--weights FILE] [--out FILE.json] [key=value ...]

``--weights``: any SPIN-layout checkpoint of the configuration's backbone (default: the
configuration's stand-in SPIN, built first if the cache lacks it). ``key=value``: any
``train.py`` key (``configs/default.yaml`` is the base): ``render.image_size``,
``mocap_spin.backbone`` and ``stand_in_spin.*`` choose the stand-in and its crops.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])
from mocap_hmr.body import BodyModel  # noqa: E402
from mocap_hmr.body.standin import resolve_body_model  # noqa: E402
from mocap_hmr.config import DEFAULT_CONFIG, load_config  # noqa: E402
from mocap_hmr.evaluation.embedded import real_domain_set  # noqa: E402
from mocap_hmr.evaluation.pose_reading import read_poses  # noqa: E402
from mocap_hmr.evaluation.predict import load_image_model  # noqa: E402
from mocap_hmr.training.distributed import resolve_device  # noqa: E402
from mocap_hmr.training.stand_in_spin import stand_in_spin  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", help="checkpoint to read (default: the stand-in SPIN)")
    parser.add_argument("--out", help="write the numbers to this JSON file")
    parser.add_argument("overrides", nargs="*", help="key=value configuration overrides")
    args = parser.parse_args(argv)
    cfg = load_config(DEFAULT_CONFIG, args.overrides)
    device = resolve_device(cfg.device)
    body = BodyModel(resolve_body_model(cfg.body.model_path)).to(device)
    weights = args.weights or stand_in_spin(cfg, body, device)
    model = load_image_model(cfg.mocap_spin, weights, device)
    size, recipe = cfg.render.image_size, cfg.stand_in_spin
    train = real_domain_set(body, size, recipe.images, "train", seed=recipe.seed,  # the stand-in build's crops
                            gap_share=recipe.gap_share)
    held_out = real_domain_set(body, size, recipe.held_out_images, "held-out", seed=recipe.seed + 1,
                               gap_share=recipe.gap_share)
    reading = read_poses(model, body.cpu(), train.pose, train.betas, held_out.images, held_out.pose, held_out.betas)
    print(f"\n{weights} on the real domain's held-out split\n\n{reading.markdown()}")
    if args.out:
        Path(args.out).write_text(json.dumps({"weights": str(weights), **reading.to_json()}, indent=1) + "\n")


if __name__ == "__main__":
    main()
