"""``python eval.py``: a training run's image models (its starting model and MoCap-SPIN), with
and without PoseBERT on top, on the embedded benchmarks and on the licensed ones configured
under ``eval.real``; writes ``report.md`` / ``report.json`` (tables laid out like the paper's
Tables 1, 4 and 6), the Figure 7 gain histogram, the gain by pose distance
(``gain_by_pose_distance.png``, binned numbers under ``report.json``'s
"gain_by_pose_distance") and the training curves into ``eval.out``.

Embedded image benchmarks: ``eval.embedded`` "image" is the three test sets of
``embedded.IMAGE_SETS`` (embedded-in-coverage, embedded-pose-gap, embedded-view-gap); each can
also be chosen alone by its name without "embedded-" ("in-coverage", ...). ``eval.split``
"validation" scores their twins on the validation corpus instead (``embedded.VALIDATION_SETS``:
validation-in-coverage, ...) and nothing else, into ``<run>/eval_validation``: where recipes are
chosen, before the test sets are looked at.

Methods: "starting model" (``mocap_spin.checkpoint``, or the initialisation the run saved
as ``mocap_spin_start.pt``) and "MoCap-SPIN" (the run's ``mocap_spin.pt``); on video
benchmarks each also "+ PoseBERT" (the run's ``posebert.pt``). On the embedded image sets the
"mean pose" row is the simplest baseline every model must beat: the starting model's own prior
(its mean pose and shape) predicted for every image (``mean_pose_method``). Image-model predictions are
cached under ``<out>/predictions`` and reused while the weights and benchmark are unchanged.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from mocap_hmr.body import BodyModel
from mocap_hmr.body.kinematics import turn_root
from mocap_hmr.body.standin import resolve_body_model
from mocap_hmr.choices import EMBEDDED_IMAGE_SETS, EVAL_ALIGNS
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.evaluation.benchmark_eval import Method, Truth, evaluate_benchmark
from mocap_hmr.evaluation.embedded import (
    TURNED,
    denoising_set,
    embedded_image_set,
    family_of,
    generalisation_set,
    image_set_families,
    video_test_set,
)
from mocap_hmr.evaluation.pose_gap import DISTANCE_LABEL, PoseGap, gain_by_pose_distance, real_domain_poses
from mocap_hmr.evaluation.pose_gap import markdown as pose_gap_markdown
from mocap_hmr.evaluation.predict import cache_key, load_image_model
from mocap_hmr.evaluation.real import load_real
from mocap_hmr.evaluation.report import read_metrics_csv, write_report
from mocap_hmr.evaluation.results import Result
from mocap_hmr.evaluation.scoring import body_points
from mocap_hmr.evaluation.smoothing_eval import score_smoothers
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.geometry.cameras import FLIP
from mocap_hmr.metrics import Protocol
from mocap_hmr.models.checkpoints import save_spin_checkpoint
from mocap_hmr.models.posebert import PoseBERT, load_posebert
from mocap_hmr.smoothers import standard_smoothers
from mocap_hmr.training.distributed import resolve_device
from mocap_hmr.training.mocap_spin import FINAL_MODEL, START_MODEL
from mocap_hmr.training.runner import load_motion
from mocap_hmr.vis.curves import training_curves
from mocap_hmr.vis.figure import save_png
from mocap_hmr.vis.gain import gain_by_distance, gain_histogram
from samplers.cameras import CameraSampler

DENOISING_VIEW_SEED = 0
MEAN_POSE = "mean pose"


def image_methods(cfg: DictConfig, run: Path) -> list[Method]:
    """The starting model (when its weights exist) and the run's MoCap-SPIN."""
    final = run / FINAL_MODEL
    if not final.is_file():
        raise MocapHMRError(f"{run}: no {FINAL_MODEL} to evaluate; train first (python train.py out_dir={run}) or "
                            "point eval.run at a finished run")
    start = Path(_started_from(cfg, run) or run / START_MODEL)
    return ([Method("starting model", start)] if start.is_file() else []) + [Method("MoCap-SPIN", final)]


def mean_pose_method(cfg: DictConfig, start: Method, out: Path, device: torch.device) -> Method:
    """The "mean pose" baseline of a starting model: its weights with the regressor's output
    layers zeroed, so that every image gets the model's prior (``init_pose``, ``init_shape``,
    ``init_cam``: SPIN's mean parameters, or the real domain's mean pose for the stand-in
    SPIN); written once per starting weights to ``out/mean_pose_<key>.pt``, the key naming the
    starting file's identity (so the prediction cache, keyed on this file's, holds)."""
    path = out / f"mean_pose_{cache_key(start.weights, {})}.pt"
    if path.is_file():
        return Method(MEAN_POSE, path)
    model = load_image_model(cfg.mocap_spin, start.weights, device).predict_prior()
    return Method(MEAN_POSE, save_spin_checkpoint(model, path))


def _run_setting(cfg: DictConfig, run: Path, key: str):
    """The setting ``key`` the run trained with: its ``config.yaml`` says, else ``cfg``."""
    saved = run / "config.yaml"
    return OmegaConf.select(OmegaConf.load(saved) if saved.is_file() else cfg, key, default=None)


def _started_from(cfg: DictConfig, run: Path) -> str | None:
    """The checkpoint the run's MoCap-SPIN started from (the embedded default's stand-in SPIN
    is set in its ``config.yaml`` by the runner)."""
    return _run_setting(cfg, run, "mocap_spin.checkpoint")


def smpl_protocol(align: str) -> Protocol:
    """The 14 LSP joints from the mesh's H36M joints, centred on the pelvis (SPIN) or the hips (VIBE)."""
    if align not in EVAL_ALIGNS:
        raise MocapHMRError(f"eval.align='{align}' is not one of {', '.join(EVAL_ALIGNS)}")
    return Protocol("lsp14", align, name="SPIN" if align == "pelvis" else "VIBE")


def mesh_truth(body: BodyModel, pose: torch.Tensor, betas: torch.Tensor, **video) -> Truth:
    """Ground truth from SMPL parameters: pose (..., 24, 3) axis-angle, betas (..., 10); ``video``:
    Truth's sequences, frames and fps."""
    vertices, joints = body_points(body, axis_angle_to_matrix(pose.reshape(-1, 24, 3)), betas.reshape(-1, 10))
    return Truth(joints=joints, vertices=vertices, **video)


def _batches(images: torch.Tensor, size: int):
    return lambda: (images[i:i + size] for i in range(0, len(images), size))


def embedded_image_names(embedded, split: str = "test") -> list[str]:
    """The image sets an ``eval.embedded`` list asks for: "image" is all three, "in-coverage",
    "pose-gap", "view-gap" one each; named as ``embedded.IMAGE_SETS`` (``split`` "test") or
    ``embedded.VALIDATION_SETS`` ("validation")."""
    prefix = "validation" if split == "validation" else "embedded"
    return [f"{prefix}-{s}" for s in EMBEDDED_IMAGE_SETS if "image" in embedded or s in embedded]


def embedded_images(cfg, body, methods, load_model, protocol, cache, log, names: list[str] | None = None
                    ) -> tuple[list[Result], dict[str, torch.Tensor], dict[str, list[str]]]:
    """Each method on each image test set of ``names`` (default: those ``eval.embedded`` asks
    for), ``eval.image_samples`` each; returns the results, each set's ground-truth poses
    (N, 24, 3) and its samples' motion families (N,), in sample order."""
    results, poses, families = [], {}, {}
    bs = cfg.eval.batch_size
    for name in names or embedded_image_names(cfg.eval.embedded, cfg.eval.split):
        data = embedded_image_set(body, name, cfg.render.image_size, n=cfg.eval.image_samples, device="cpu", log=log)
        truth = mesh_truth(body, data.pose, data.betas)
        results += evaluate_benchmark(name, _batches(data.images, bs), -(-len(data.images) // bs), truth, methods,
                                      load_model, body, protocol, cache, data.meta)
        poses[name] = data.pose
        families[name] = image_set_families(name, data, log)
    return results, poses, families


def real_benchmarks(cfg, body, methods, load_model, cache, device, log, posebert=None) -> list[Result]:
    """Each method (and + PoseBERT on video benchmarks, with ``posebert``) on every ``eval.real``
    benchmark, with that benchmark's protocol."""
    results = []
    for entry in cfg.eval.real:
        bench = load_real(entry, cfg.render.image_size, cfg.eval.align, cfg.body.model_path, device, log)
        loader = torch.utils.data.DataLoader(bench.crops, batch_size=cfg.eval.batch_size,
                                             num_workers=cfg.eval.workers)
        results += evaluate_benchmark(entry.name, lambda loader=loader: loader, len(loader), bench.truth, methods,
                                      load_model, body, bench.protocol, cache, {"path": entry.path},
                                      posebert=posebert)
    return results


def embedded_video(cfg, body, methods, load_model, protocol, cache, posebert, log) -> list[Result]:
    data = video_test_set(body, cfg.render.image_size, sequences=cfg.eval.video_sequences,
                          frames=cfg.eval.video_frames, device="cpu", log=log)
    s, t = data.pose.shape[:2]
    truth = mesh_truth(body, data.pose, data.betas[:, None].expand(s, t, 10),
                   sequences=list(np.arange(s * t).reshape(s, t)), frames=np.tile(np.arange(t), s), fps=data.fps)
    bs = cfg.eval.batch_size
    images = data.images.flatten(0, 1)
    return evaluate_benchmark("embedded-video", _batches(images, bs), -(-len(images) // bs), truth, methods,
                              load_model, body, protocol, cache, data.meta, posebert=posebert)


def _camera_views(cfg: DictConfig, n: int) -> torch.Tensor:
    """(n, 3, 3): how the smoothing benchmarks' sequences are seen: from cameras of the renderer's
    distribution (their root in that camera's frame, as image models predict it), or the corpus
    frame for a PoseBERT trained with ``posebert.view=world``."""
    if cfg.posebert.view == "camera":
        return FLIP @ CameraSampler().sample(n, torch.Generator().manual_seed(DENOISING_VIEW_SEED))["R"]
    return torch.eye(3).expand(n, 3, 3)


def _seen(data, cfg: DictConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """A denoising-like set's clean and noisy (NaN frames zeroed) poses as rotations seen from ``_camera_views``."""
    view = _camera_views(cfg, len(data.clean))
    return tuple(turn_root(axis_angle_to_matrix(p), view) for p in (data.clean, torch.nan_to_num(data.noisy)))


def embedded_denoising(cfg, body, posebert: PoseBERT | None, protocol, log) -> list[Result]:
    """The corrupted held-out motion (``denoising_set``) smoothed by PoseBERT and each plain filter."""
    data = denoising_set(sequences=cfg.eval.denoising_sequences, frames=cfg.eval.denoising_frames, log=log)
    clean, noisy = _seen(data, cfg)
    return score_smoothers(clean, noisy, data.observed, data.betas, ["embedded-denoising"] * len(clean),
                           standard_smoothers(posebert, fps=data.fps), body, protocol,
                           {"fps": data.fps, **data.meta.get("params", {})})


def embedded_generalisation(cfg, body, posebert: PoseBERT | None, protocol, log, filters: bool = True
                            ) -> list[Result]:
    """PoseBERT and (``filters``) each plain filter on every procedural family
    (``generalisation_set``), each family marked "unseen" when none of its sequences is left in
    PoseBERT's training corpus (the run's motion corpus without ``posebert.exclude``), and on
    randomly turned motion."""
    data = generalisation_set(windows_per_group=cfg.eval.generalisation_windows,
                              frames=cfg.eval.denoising_frames, log=log)
    clean, noisy = _seen(data, cfg)
    trained_on = {family_of(name) for name in load_motion(cfg, torch.device("cpu"), log).without(
        list(cfg.posebert.exclude)).names}

    def label(group: str) -> str:
        if group == TURNED:
            return "turned (any family, random orientation)"
        return f"{group} ({'trained on' if group in trained_on else 'unseen'})"

    return score_smoothers(clean, noisy, data.observed, data.betas, [label(g) for g in data.group],
                           standard_smoothers(posebert, fps=data.fps, filters=filters), body, protocol,
                           {"fps": data.fps, **data.meta.get("params", {})}, with_vertices=False, kind="smoothing")


def evaluate(cfg: DictConfig, log=print) -> dict[str, Path]:
    """Evaluate the run ``eval.run`` (default ``out_dir``); returns the written files. With
    ``eval.split`` "validation" only the validation image sets, into ``<run>/eval_validation``
    by default."""
    run = Path(cfg.eval.run or cfg.out_dir)
    validation = cfg.eval.split == "validation"
    out = Path(cfg.eval.out or run / ("eval_validation" if validation else "eval"))
    device = resolve_device(cfg.device)
    methods = image_methods(cfg, run)
    body = BodyModel(resolve_body_model(cfg.body.model_path, log=log)).to(device)
    posebert_path = run / "posebert.pt"
    posebert = load_posebert(posebert_path, device) if posebert_path.is_file() else None
    if posebert is not None and posebert.input != "smpl":
        log(f"eval: {posebert_path} reads 3D keypoints, not SMPL poses; it is left out of the video benchmarks")
        posebert = None
    protocol = smpl_protocol(cfg.eval.align)
    cache = out / "predictions"

    def load_model(weights: Path):
        return load_image_model(cfg.mocap_spin, weights, device)

    results, image_poses, families = [], {}, {}
    if embedded_image_names(cfg.eval.embedded):
        baseline = [mean_pose_method(cfg, methods[0], out, device)] if methods[0].name == "starting model" else []
        results, image_poses, families = embedded_images(cfg, body, [*baseline, *methods], load_model, protocol,
                                                         cache, log)
    others = [b for b in ("video", "denoising", "generalisation") if b in cfg.eval.embedded]
    if validation:
        if others or cfg.eval.real:
            log(f"eval: eval.split=validation scores the validation image sets only; "
                f"{', '.join([*others, *(e.name for e in cfg.eval.real)])} left out")
        if not results:
            raise MocapHMRError("eval.split=validation: eval.embedded names no image set (image, in-coverage, "
                                "pose-gap or view-gap)")
    else:
        if "video" in others:
            results += embedded_video(cfg, body, methods, load_model, protocol, cache, posebert, log)
        if "denoising" in others:
            results += embedded_denoising(cfg, body, posebert, protocol, log)
        if "generalisation" in others:
            results += embedded_generalisation(cfg, body, posebert, protocol, log)
        results += real_benchmarks(cfg, body, methods, load_model, cache, device, log, posebert)
    if not results:
        raise MocapHMRError("nothing to evaluate: eval.embedded is empty and eval.real lists no benchmark")
    notes = [f"run: {run}", "embedded-* benchmarks are synthetic (docs/embedded_benchmarks.md): their numbers "
             "compare models with each other, not with published numbers"]
    gap_share = _run_setting(cfg, run, "stand_in_spin.gap_share") or 0.0  # the real domain it trained on
    gap = gain_by_pose_distance(results, image_poses, real_domain_poses(gap_share=gap_share, log=log), families,
                                gap_share=gap_share) if image_poses else None
    if validation:
        notes.append("validation sets (eval.split=validation): choose recipes on these; the test sets are "
                     "eval.py's default")
    files = write_report(results, out, f"{'Validation' if validation else 'Evaluation'} of {run}", notes,
                         extra={"gain_by_pose_distance": gap.summary} if gap else None,
                         extra_markdown=pose_gap_markdown(gap.summary) if gap else ())
    files.update(_pictures(results, run, out, gap))
    log((out / "report.md").read_text())
    return files


def _pictures(results: list[Result], run: Path, out: Path, gap: PoseGap | None = None) -> dict[str, Path]:
    """The Figure 7 gain histogram (starting model -> MoCap-SPIN, first image benchmark), the gain
    by pose distance (with ``gap``) and the training curves."""
    pictures = {}
    by = {(r.method, r.benchmark): r for r in results}
    pairs = [b for (m, b) in by if m == "MoCap-SPIN" and ("starting model", b) in by]
    if pairs:
        a, b = by["starting model", pairs[0]], by["MoCap-SPIN", pairs[0]]
        pictures["gain_histogram"] = save_png(
            gain_histogram(a.per_sample["pa_mpjpe"], b.per_sample["pa_mpjpe"], a.method, b.method),
            out / f"gain_pa_mpjpe_{pairs[0]}.png")
    if gap is not None:
        rho = gap.summary["spearman"]
        note = f"Spearman ρ = {rho:.2f} over {gap.summary['samples']} samples" if rho is not None else ""
        pictures["gain_by_pose_distance"] = save_png(
            gain_by_distance(gap.distance, gap.gain, "starting model", "MoCap-SPIN", DISTANCE_LABEL,
                             bins=gap.summary["bins_asked"], note=note,
                             title="PA-MPJPE gain per sample against its distance to the real domain's poses"),
            out / "gain_by_pose_distance.png")
    csvs = {p.stem.removeprefix("metrics_"): p for p in sorted(run.glob("metrics_*.csv"))}
    if csvs:
        tables = {name: read_metrics_csv(path) for name, path in csvs.items()}
        pictures["training_curves"] = save_png(training_curves(tables, columns=("loss",), log_y=True),
                                               out / "training_curves.png")
    return pictures
