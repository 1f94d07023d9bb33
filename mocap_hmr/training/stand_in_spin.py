"""The stand-in SPIN: the embedded default's starting model, trained by the project as SPIN
is, on "real" images alone, here the embedded world's real domain
(``evaluation.embedded.real_domain_set``), until its held-out split stops improving.

Built once and cached in ``$MOCAP_HMR_CACHE/stand_in_spin/<key>.pt`` (SPIN's checkpoint layout)
with ``<key>.json`` beside it (its held-out accuracy, the mean pose's, steps, build time); the
key is a digest of the body and the recipe, so another body or recipe builds its own.
``mocap-hmr build-spin`` builds it ahead; ``python train.py`` builds it when the embedded
default needs it (no ``mocap_spin.checkpoint``, no ``mocap_spin.real``).

The regressor starts from the real domain's mean pose (as SPIN's from its data's
``smpl_mean_params``), root upright facing the camera. Every parameter trains, Adam at
``stand_in_spin.lr`` (unset: the backbone's, ``BACKBONE_LR``) divided by 10 at each of
``stand_in_spin.lr_milestones``, on batches of the real domain's training split (without the
decay the held-out score swings by several mm between scores and the camera, which only SPIN's
regulariser holds, can drift until that term overflows: the decay lets the build settle where
more training stops helping); every
``stand_in_spin.eval_every`` steps the model is scored (PA-MPJPE, eval.py's 14 LSP joints)
on the held-out split; the best weights are kept, and training stops after
``stand_in_spin.patience`` scores without improvement at the final rate (from the last of
``stand_in_spin.lr_milestones`` on: before it the scores swing with the high rate, and a build
that stopped there kept a start that was not trained out) or at ``stand_in_spin.max_steps``.
``stand_in_spin.seed`` seeds the whole build (its crops, initialisation and batches) from an RNG
of its own: a recipe and seed rebuild the same stand-in on one machine, and the caller's
training does not depend on whether the cache had it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from mocap_hmr.atomic import atomic_write
from mocap_hmr.body import BodyModel
from mocap_hmr.data.crop_batch import CropBatch
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.evaluation.embedded import body_fingerprint, real_domain_set
from mocap_hmr.evaluation.scoring import body_points
from mocap_hmr.filters import nearest_rotation
from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_rot6d
from mocap_hmr.geometry.cameras import FLIP
from mocap_hmr.metrics import pa_mpjpe
from mocap_hmr.models.checkpoints import save_spin_checkpoint
from mocap_hmr.models.hmr import HMR
from mocap_hmr.paths import cache_dir
from mocap_hmr.progress import progress
from mocap_hmr.training.mocap_spin import MocapSpinTrainer

RECIPE_VERSION = 4  # bump when the recipe changes what is trained: older caches are then left alone
EVAL_BATCH = 64
LR_GAMMA = 0.1  # the rate's factor at each of stand_in_spin.lr_milestones
# Adam's rate per backbone where stand_in_spin.lr is unset: a ResNet-18 build at the tiny model's 3e-4 fell back to
# the mean pose after its step 500 and trained smoothly at 1e-4 (docs/evaluation.md, "A stronger embedded run");
# 5e-5 is SPIN's rate for its ResNet-50
BACKBONE_LR = {"tiny": 3e-4, "resnet18": 1e-4, "resnet50": 5e-5}


class CropSet:
    """A finite set of crops drawn from like a dataset: ``sample(n, generator)`` -> ``n``
    samples drawn uniformly with replacement, on ``device``."""

    def __init__(self, crops: CropBatch, device: torch.device):
        self.crops, self.device = crops, device

    def __len__(self) -> int:
        return len(self.crops.images)

    def sample(self, n: int, generator: torch.Generator) -> CropBatch:
        pick = torch.randint(len(self), (n,), generator=generator, device=generator.device).cpu()
        return CropBatch(**{k: v[pick] for k, v in vars(self.crops).items()}).to(self.device)


def mean_pose6d(pose: torch.Tensor) -> torch.Tensor:
    """(144,) SPIN's mean-pose layout from poses (N, 24, 3): each body joint's chordal mean
    rotation (the nearest rotation to the mean matrix); the root upright facing the camera."""
    rotations = nearest_rotation(axis_angle_to_matrix(pose.double()).mean(0))
    rotations[0] = FLIP.double()
    return matrix_to_rot6d(rotations.float()).reshape(-1)


def pa_mpjpe_of(model: HMR, body: BodyModel, images: torch.Tensor, truth: torch.Tensor, device: torch.device) -> float:
    """The model's mean PA-MPJPE (mm, the 14 LSP joints of ``metrics.pa_mpjpe``'s default) on
    ``images`` (N, 3, S, S) against the H36M joints ``truth`` (N, 17, 3) of their bodies, in eval mode."""
    was_training = model.training
    model.eval()
    with torch.no_grad():
        outputs = [model(images[i:i + EVAL_BATCH].to(device)) for i in range(0, len(images), EVAL_BATCH)]
    model.train(was_training)
    rotmat, betas = torch.cat([o.rotmat for o in outputs]), torch.cat([o.betas for o in outputs])
    if not (torch.isfinite(rotmat).all() and torch.isfinite(betas).all()):
        return math.inf  # diverged weights: the worst score, not a failed Procrustes fit
    return float(pa_mpjpe(body_points(body, rotmat, betas)[1], truth).mean())


def build_lr(cfg: DictConfig) -> float:
    """The stand-in's rate: ``stand_in_spin.lr``, or the backbone's where it is unset."""
    return cfg.stand_in_spin.lr or BACKBONE_LR[cfg.mocap_spin.backbone]


def recipe(cfg: DictConfig) -> dict:
    """What the stand-in depends on besides the body: the image size, backbone and ``stand_in_spin``
    (its rate resolved: an unset rate and the backbone's own build the same stand-in)."""
    return {"version": RECIPE_VERSION, "image_size": cfg.render.image_size, "backbone": cfg.mocap_spin.backbone,
            **OmegaConf.to_container(cfg.stand_in_spin, resolve=True), "lr": build_lr(cfg)}


def stand_in_spin_path(cfg: DictConfig, body: BodyModel) -> Path:
    """Where the stand-in SPIN for this body and recipe is cached."""
    key = json.dumps({"body": body_fingerprint(body), **recipe(cfg)}, sort_keys=True)
    return cache_dir() / "stand_in_spin" / f"{hashlib.sha256(key.encode()).hexdigest()[:12]}.pt"


def stand_in_spin(cfg: DictConfig, body: BodyModel, device: torch.device, log: Callable[[str], None] = print) -> Path:
    """The cached stand-in SPIN's checkpoint, trained first when the cache lacks it."""
    path = stand_in_spin_path(cfg, body)
    if path.is_file() and path.with_suffix(".json").is_file():
        info = json.loads(path.with_suffix(".json").read_text())
        log(f"stand-in SPIN: {path} (held-out PA-MPJPE {info['pa_mpjpe']:.1f} mm, the mean pose's "
            f"{info['mean_pose_pa_mpjpe']:.1f})")
        return path
    # the build draws from its own seeded RNG: a first run (which builds) and a later one (which
    # reads the cache) leave the caller's RNG, hence its training, in the same state
    with torch.random.fork_rng(devices=[torch.cuda.current_device()] if device.type == "cuda" else []):
        torch.manual_seed(cfg.stand_in_spin.seed)
        return _build(cfg, body, device, path, log)


def _build(cfg: DictConfig, body: BodyModel, device: torch.device, path: Path, log: Callable[[str], None]) -> Path:
    """Train the stand-in SPIN of ``cfg`` and write it to ``path`` (with ``<path>.json``)."""
    recipe_cfg, lr = cfg.stand_in_spin, build_lr(cfg)
    seed = recipe_cfg.seed
    start = time.perf_counter()
    train_set = real_domain_set(body, cfg.render.image_size, recipe_cfg.images, "train", seed=seed,
                                gap_share=recipe_cfg.gap_share, log=log)
    held_out = real_domain_set(body, cfg.render.image_size, recipe_cfg.held_out_images, "held-out", seed=seed + 1,
                               gap_share=recipe_cfg.gap_share, log=log)
    truth = body_points(body, axis_angle_to_matrix(held_out.pose), held_out.betas)[1]  # (N, 17, 3), once
    spin_cfg = OmegaConf.merge(cfg.mocap_spin, {
        "checkpoint": None, "mean_params": None, "trainable": "all", "synthetic_fraction": 0.0,
        "synthetic_source": "motion", "lr": lr, "batch_size": recipe_cfg.batch_size,
        "lr_milestones": list(recipe_cfg.lr_milestones), "lr_gamma": LR_GAMMA, "loss": recipe_cfg.loss,
        "compile": False})
    trainer = MocapSpinTrainer(spin_cfg, body, None, CropSet(train_set, device), device, log=log)
    trainer.model.init_pose.copy_(mean_pose6d(train_set.pose)[None].to(device))
    mean_pose_score = pa_mpjpe_of(copy.deepcopy(trainer.model).predict_prior(), body, held_out.images, truth, device)
    log(f"stand-in SPIN: training on the real domain ({len(train_set.images)} crops; held-out split "
        f"{len(held_out.images)}); the mean pose scores {mean_pose_score:.1f} mm PA-MPJPE")
    generator = torch.Generator(device=device).manual_seed(seed)
    best, best_step, best_state, history = float("inf"), 0, None, []
    final_rate_from = max(recipe_cfg.lr_milestones, default=0)  # patience counts from here on
    bar = progress(range(1, recipe_cfg.max_steps + 1), recipe_cfg.max_steps, "stand-in SPIN", unit="steps")
    for step in bar:
        rate = trainer.scheduler.get_last_lr()[0]  # the rate this step trains at
        loss = trainer.step(generator)["loss"]
        if not math.isfinite(loss):  # the trainer skipped the update; its weights may already be lost
            if best_state is None:
                raise MocapHMRError(f"stand-in SPIN: the loss became {loss} at step {step}, before any finite "
                                    f"held-out score; lower stand_in_spin.lr (now {lr:g})")
            log(f"stand-in SPIN: the loss became {loss} at step {step}: stopping, keeping step {best_step}")
            break
        if step % recipe_cfg.eval_every and step != recipe_cfg.max_steps:
            continue
        score = pa_mpjpe_of(trainer.model, body, held_out.images, truth, device)
        history.append({"step": step, "lr": rate, "pa_mpjpe": round(score, 2)})
        log(f"stand-in SPIN: step {step}, held-out PA-MPJPE {score:.1f} mm")
        if score < best:
            best, best_step, best_state = score, step, copy.deepcopy(trainer.model.state_dict())
        elif step - max(best_step, final_rate_from) >= recipe_cfg.patience * recipe_cfg.eval_every:
            log(f"stand-in SPIN: no better for {recipe_cfg.patience} scores at the final rate: stopping, "
                f"keeping step {best_step}")
            break
    if best_state is None:
        raise MocapHMRError(f"stand-in SPIN: no finite held-out score in {recipe_cfg.max_steps} steps; lower "
                            f"stand_in_spin.lr (now {lr:g})")
    trainer.model.load_state_dict(best_state)
    save_spin_checkpoint(trainer.model, path)
    info = {"pa_mpjpe": round(best, 2), "mean_pose_pa_mpjpe": round(mean_pose_score, 2), "step": best_step,
            "seconds": round(time.perf_counter() - start, 1), "history": history, "recipe": recipe(cfg),
            "held_out": "real domain, every fifth sequence of its corpus (evaluation.embedded.real_domain_set)"}
    atomic_write(path.with_suffix(".json"), lambda fh: fh.write((json.dumps(info, indent=1) + "\n").encode()))
    log(f"stand-in SPIN: {path}, held-out PA-MPJPE {best:.1f} mm (mean pose {mean_pose_score:.1f}) after "
        f"{best_step} steps, built in {info['seconds']:.0f} s")
    return path
