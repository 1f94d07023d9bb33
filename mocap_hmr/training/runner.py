"""``python train.py``: one run folder, one process: MoCap-SPIN trained on rendered + real
(or the embedded world's real-domain) batches and PoseBERT on the motion corpus, interleaved, resumable.

Run folder (``out_dir``): ``config.yaml`` (the resolved configuration),
``metrics_mocap_spin.csv`` / ``metrics_posebert.csv`` (one row per ``log_every`` steps),
``checkpoints/last.pt`` (every ``checkpoint_every`` steps and at the end; models,
optimizers, schedulers, steps and every RNG state, so a resumed run continues exactly),
``pictures/step_XXXXXX.png`` (crops with the predicted meshes), ``mocap_spin.pt`` (the
trained image model in SPIN's checkpoint layout) and, when it started from its
initialisation rather than a checkpoint, ``mocap_spin_start.pt`` (that initialisation, the
"starting model" ``eval.py`` compares with), ``posebert.pt`` (the trained PoseBERT, for
``mocap-hmr smooth``), ``tensorboard/`` (the same metrics and pictures
as TensorBoard events, one file per start of the run, where the tensorboard package is
installed: ``training.tensorboard``; ``tensorboard=false`` turns it off).

``torchrun --nproc_per_node=N train.py``: N processes (``training.distributed``), each on its
own batches of the per-process batch sizes, drawn from its own generators (one per task:
``task_seed``), with the models in
DDP; metrics are averaged over the processes and ``samples_per_s`` counts them all; rank 0
alone writes the run folder; the checkpoint keeps every rank's RNG states (``rng_ranks``).
"""

from __future__ import annotations

import contextlib
import csv
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from omegaconf import DictConfig, OmegaConf

from mocap_hmr.atomic import atomic_write
from mocap_hmr.body import BodyModel
from mocap_hmr.body.standin import resolve_body_model
from mocap_hmr.data.default_corpus import default_motion_index
from mocap_hmr.data.embedded_world import real_motion_words
from mocap_hmr.data.motion_index import MotionIndex, load_index
from mocap_hmr.data.real_stream import RealImageStream
from mocap_hmr.data.spin_dataset import SpinAugment, SpinDataset
from mocap_hmr.data.spin_fits import FitCheck
from mocap_hmr.errors import TrainingDiverged
from mocap_hmr.evaluation.embedded import real_domain_set
from mocap_hmr.imageio import write_png
from mocap_hmr.progress import progress
from mocap_hmr.training.checkpointing import load_checkpoint, save_checkpoint
from mocap_hmr.training.distributed import (
    DistContext,
    barrier,
    cleanup,
    gather,
    init_distributed,
    main_first,
    mean_over_processes,
    rank_seed,
    wrap,
)
from mocap_hmr.training.inputs import check_inputs
from mocap_hmr.training.mocap_spin import MocapSpinTrainer
from mocap_hmr.training.posebert_step import PoseBertTrainer
from mocap_hmr.training.run_folder import check_run_folder, claim_run_folder, io_failure
from mocap_hmr.training.stand_in_spin import CropSet, stand_in_spin
from mocap_hmr.training.tensorboard import open_event_writer
from renderers.build import renderer_from_config

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

def build_streams(cfg: DictConfig, body: BodyModel, device: torch.device, log=print,
                  index: MotionIndex | None = None, rank: int = 0, world_size: int = 1):
    """The synthetic renderer (the MoCap domain) and the real-half source: SPIN's datasets when
    ``mocap_spin.real`` lists some (each epoch dealt out to the ``world_size`` processes), else the
    embedded world's real domain (``evaluation.embedded.real_domain_set``: the finite set of
    renderings the stand-in SPIN trained on) -- synthetic, and said so. ``index``: the motion
    corpus already on ``device`` (else loaded)."""
    motion_index = index or load_motion(cfg, device, log)
    synthetic = renderer_from_config(cfg.render, body, motion_index, device)
    spin = cfg.mocap_spin
    if spin.real:
        datasets = [SpinDataset(d.npz, d.images, size=cfg.render.image_size, augment=SpinAugment(), seed=cfg.seed,
                                skip_bad=spin.skip_bad, log=log, fits=d.fits) for d in spin.real]
        n_real = spin.batch_size - round(spin.batch_size * spin.synthetic_fraction)
        log(f"mocap_spin: real half from {len(datasets)} dataset(s), {sum(len(d) for d in datasets):,} samples")
        for d in spin.real:
            if d.fits is None:
                log(f"mocap_spin: {d.npz} has no fits configured: SMPL targets only where its .npz has pose and shape")
        fit_check = FitCheck(body, spin.fit_threshold) if any(d.fits for d in spin.real) else None
        return synthetic, RealImageStream(datasets, n_real, device, seed=cfg.seed, workers=spin.real_workers,
                                          shares=[d.share for d in spin.real], rank=rank, world_size=world_size,
                                          fit_check=fit_check, skip_bad=spin.skip_bad, log=log)
    recipe = cfg.stand_in_spin  # the stand-in SPIN's own training crops, as SPIN's real half is its data
    real = real_domain_set(body, cfg.render.image_size, recipe.images, "train", seed=recipe.seed,
                           gap_share=recipe.gap_share, log=log)
    log(f"mocap_spin: no real images configured; the real half of each batch is the embedded world's real domain "
        f"({len(real.images)} synthetic crops: part-coloured suit, photo cameras, "
        f"{real_motion_words(recipe.gap_share)})")
    return synthetic, CropSet(real, device)


def build_mocap_spin(cfg: DictConfig, body: BodyModel, device: torch.device, log=print, *,
                     index: MotionIndex | None = None, rank: int = 0, world_size: int = 1,
                     streams: tuple | None = None, spin: DictConfig | None = None) -> MocapSpinTrainer:
    """MoCap-SPIN's trainer for a configuration, the one place it is assembled: the body, the
    two halves (``build_streams``, unless ``streams`` gives the (synthetic, real) sources), then
    ``MocapSpinTrainer`` with ``spin`` (default ``cfg.mocap_spin``), its batch norms synchronised
    where ``distributed.sync_batchnorm`` and several processes."""
    synthetic, real = streams if streams is not None else \
        build_streams(cfg, body, device, log, index=index, rank=rank, world_size=world_size)
    sync_batchnorm = bool(cfg.distributed.sync_batchnorm) and world_size > 1
    return MocapSpinTrainer(cfg.mocap_spin if spin is None else spin, body, synthetic, real, device, log=log,
                            sync_batchnorm=sync_batchnorm)


def with_starting_model(cfg: DictConfig, body: BodyModel, device: torch.device, log=print) -> DictConfig:
    """``cfg`` with ``mocap_spin.checkpoint`` set to the stand-in SPIN (built into the cache on first
    use) where the embedded default needs one: no checkpoint, no real datasets,
    ``stand_in_spin.enabled``."""
    spin = cfg.mocap_spin
    if not spin.enabled or spin.checkpoint or spin.real or not cfg.stand_in_spin.enabled:
        return cfg
    return OmegaConf.merge(cfg, {"mocap_spin": {"checkpoint": str(stand_in_spin(cfg, body, device, log))}})


def _rng_state(tasks: list[_Task]) -> dict:
    state = {"generators": {t.name: t.generator.get_state() for t in tasks}, "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _restore_rng(tasks: list[_Task], state: dict, log) -> None:
    if "generators" in state:
        for task in tasks:
            task.generator.set_state(state["generators"][task.name])
    else:
        log("the checkpoint holds one sampler stream for all tasks (an earlier version): each task's stream "
            "restarts from its seed")
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _resume_rng(tasks: list[_Task], state: dict, ctx: DistContext, log) -> None:
    """This rank's RNG states from the checkpoint; a rank it has none for keeps its fresh seed."""
    saved = state.get("rng_ranks", [state["rng"]])  # checkpoints from before rng_ranks: one process
    if ctx.rank < len(saved):
        _restore_rng(tasks, saved[ctx.rank], log)
    before, now = len(saved), ctx.world_size
    if before != now:
        log(f"the checkpoint was written by {before} process(es), this run has {now}: models, optimizers and "
            f"steps continue; sampler streams continue for {_ranks(0, min(before, now) - 1)}"
            + (f", restart for {_ranks(before, now - 1)} (seeded from seed and rank)" if now > before
               else f" and end for {_ranks(now, before - 1)}"))


def _ranks(first: int, last: int) -> str:
    return f"rank {first}" if first == last else f"ranks {first}-{last}"


class _MetricsLog:
    """A metrics CSV, one row per logged step; on resume, rows after the checkpoint are dropped."""

    def __init__(self, path: Path, keep_until: int):
        self.path, self.header = path, None
        if path.exists():
            with open(path, newline="") as fh:
                rows = [r for r in csv.DictReader(fh) if int(r["step"]) <= keep_until]
            self.header = list(rows[0]) if rows else None
            self._rewrite(rows)
        elif path.parent.exists():
            path.write_text("")

    def _rewrite(self, rows: list[dict]) -> None:
        with open(self.path, "w", newline="") as fh:
            if rows:
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)

    def write(self, step: int, terms: dict, samples_per_s: float) -> None:
        row = {"step": step, **{k: f"{v:.6g}" for k, v in terms.items()}, "samples_per_s": f"{samples_per_s:.1f}"}
        new = self.header is None
        self.header = self.header or list(row)
        with open(self.path, "a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=self.header)
            if new:
                writer.writeheader()
            writer.writerow(row)


TASK_SEED_OFFSETS = {"mocap_spin": 0, "posebert": 0x5DEECE66D}  # far from every rank's seed (distributed.rank_seed)


@dataclass
class _Task:
    """One model being trained: its trainer, step budget, log and progress."""

    name: str
    trainer: object
    iterations: int
    batch_size: int
    log_every: int
    checkpoint_every: int
    generator: torch.Generator | None = None  # the task's own sampler stream (see task_seed)
    metrics: _MetricsLog | None = None
    done: int = 0

    @property
    def fraction(self) -> float:
        return self.done / self.iterations if self.iterations else 1.0


def load_motion(cfg: DictConfig, device: torch.device, log=print) -> MotionIndex:
    """The configured motion index (or the procedural corpus) on ``device``."""
    return load_index(cfg.motion.index or default_motion_index(fps=cfg.motion.fps, log=log), device=device)


def task_seed(seed: int, task: str) -> int:
    """The seed of a task's sampler stream: MoCap-SPIN's is the process's seed itself, PoseBERT's
    a fixed offset of it, so that neither task's batches depend on how many steps, or which
    settings, the other one has."""
    return (seed + TASK_SEED_OFFSETS[task]) % 2**64


def _tasks(cfg: DictConfig, body: BodyModel, ctx: DistContext, log) -> list[_Task]:
    """The enabled models' trainers, sharing one copy of the motion corpus on the device."""
    tasks, device = [], ctx.device
    index = load_motion(cfg, device, log) if cfg.mocap_spin.enabled or cfg.posebert.enabled else None
    if cfg.mocap_spin.enabled:
        spin = cfg.mocap_spin
        trainer = build_mocap_spin(cfg, body, device, log, index=index, rank=ctx.rank, world_size=ctx.world_size)
        tasks.append(_Task("mocap_spin", trainer, spin.iterations, spin.batch_size, spin.log_every,
                           spin.checkpoint_every))
    if cfg.posebert.enabled:
        pb = cfg.posebert
        tasks.append(_Task("posebert", PoseBertTrainer(pb, index, body, device, log=log), pb.iterations,
                           pb.batch_size, pb.log_every, pb.checkpoint_every))
    return tasks


def train(cfg: DictConfig, log=print) -> Path:
    """Run (or resume) the configured training; returns the run folder. MoCap-SPIN and
    PoseBERT steps interleave in proportion to their step budgets (the one further behind
    goes next), sharing the device, the body model and the motion index. Under torchrun this
    is one process of several (``training.distributed``); ranks other than 0 log nothing.
    Every missing input the configuration names is reported, at once, and a run folder this
    run may not use is refused (``training.run_folder``) before anything starts; nothing is
    written into the folder before the inputs have loaded."""
    check_inputs(cfg)
    check_run_folder(cfg)
    ctx = init_distributed(cfg)
    finished = False
    try:
        out = _train(cfg, ctx, log if ctx.is_main else lambda message: None)
        finished = True
        return out
    finally:
        cleanup(wait_for_peers=finished)


def _train(cfg: DictConfig, ctx: DistContext, log) -> Path:
    out = Path(cfg.out_dir)
    ckpt_path = out / "checkpoints" / "last.pt"
    device = ctx.device
    state = load_checkpoint(ckpt_path, device) if cfg.resume else None
    seed = rank_seed(cfg.seed, ctx.rank)
    torch.manual_seed(seed)
    with main_first(ctx):  # rank 0 builds what the cache lacks (stand-in body, corpora), the others read it
        body = BodyModel(resolve_body_model(cfg.body.model_path, log=log)).to(device)
        cfg = with_starting_model(cfg, body, device, log)
        tasks = _tasks(cfg, body, ctx, log)
    if not tasks:
        log("mocap_spin.enabled=false and posebert.enabled=false: nothing to train")
        return out
    for task in tasks:
        task.generator = torch.Generator(device=device).manual_seed(task_seed(seed, task.name))
    if ctx.world_size > 1:
        log(f"{ctx.world_size} processes on {device.type}; batch sizes are per process: "
            + ", ".join(f"{t.name} {ctx.world_size} x {t.batch_size}" for t in tasks)
            + f" samples per step; distributed.sync_batchnorm={cfg.distributed.sync_batchnorm}")
    if state is not None:
        for task in tasks:
            task.trainer.load_state_dict(state[task.name])
            task.done = state["done"][task.name]
        _resume_rng(tasks, state, ctx, log)
        log(f"resumed from {ckpt_path} at " + ", ".join(f"{t.name} step {t.done}" for t in tasks))
    for task in tasks:
        task.trainer.model = wrap(task.trainer.model, ctx)
    with claim_run_folder(cfg, log) if ctx.is_main else contextlib.nullcontext(out):
        try:
            events = _start_writing(cfg, tasks, out, resumed=state is not None, log=log) if ctx.is_main else None
            try:
                _loop(cfg, tasks, out, ckpt_path, events, ctx)
            finally:
                if events is not None:
                    events.close()
        except OSError as exc:
            raise io_failure(exc, out) from exc
        barrier()  # every process returns once rank 0 has written the last checkpoint and models
    log(f"run folder: {out} (metrics_*.csv, checkpoints/last.pt, pictures/, mocap_spin.pt, posebert.pt"
        + (", tensorboard/)" if events else ")"))
    return out


def _start_writing(cfg: DictConfig, tasks: list[_Task], out: Path, resumed: bool, log) -> SummaryWriter | None:
    """Rank 0, in the claimed run folder: the configuration, the starting model (a run that
    starts from its initialisation), the metrics logs and the TensorBoard writer."""
    atomic_write(out / "config.yaml", lambda fh: fh.write(OmegaConf.to_yaml(cfg).encode()))
    if not resumed:
        for task in tasks:
            task.trainer.export_start(out)  # rank 0's starting model: DDP broadcasts it
    for task in tasks:
        task.metrics = _MetricsLog(out / f"metrics_{task.name}.csv", keep_until=task.done)
    return open_event_writer(out / "tensorboard", log) if cfg.tensorboard else None


def run_steps(cfg: DictConfig, name: str, trainer, iterations: int, batch_size: int, out: Path,
              generator: torch.Generator, what: str = "") -> None:
    """One trainer stepped ``iterations`` times through the runner's loop, in this process, with
    no checkpoints: its metrics CSV (every step), pictures and export go into ``out`` (the
    studies' variants). ``what`` names the run in the NaN message."""
    out.mkdir(parents=True, exist_ok=True)
    task = _Task(name, trainer, iterations, batch_size, log_every=1, checkpoint_every=iterations, generator=generator)
    task.metrics = _MetricsLog(out / f"metrics_{name}.csv", keep_until=0)
    _loop(cfg, [task], out, None, None, DistContext(device=generator.device), label=what or name)


def _loop(cfg: DictConfig, tasks: list[_Task], out: Path, ckpt_path: Path | None,
          events: SummaryWriter | None, ctx: DistContext, label: str = "training") -> None:
    """Step the tasks until each has done its iterations, logging, drawing and checkpointing
    (every process steps and checkpoints together; rank 0 alone writes). ``ckpt_path`` None:
    no checkpoints; ``label``: the progress bar's."""

    def checkpoint() -> None:
        if ckpt_path is None:
            return
        rng = gather(_rng_state(tasks))
        if ctx.is_main:
            save_checkpoint(ckpt_path, {"done": {t.name: t.done for t in tasks},
                                        **{t.name: t.trainer.state_dict() for t in tasks},
                                        "rng": rng[0], "rng_ranks": rng, "config": OmegaConf.to_container(cfg)})

    total, started = sum(t.iterations for t in tasks), time.perf_counter()
    first = {t.name: t.done for t in tasks}
    steps = range(sum(t.done for t in tasks), total)
    for _ in progress(steps, len(steps), label, unit="steps") if ctx.is_main else steps:
        task = min((t for t in tasks if t.done < t.iterations), key=lambda t: t.fraction)
        terms = mean_over_processes(task.trainer.step(task.generator), ctx.device)  # every process stops on NaN
        if not all(math.isfinite(v) for v in terms.values()):
            kept = f" (the last checkpoint, if any, is {ckpt_path})" if ckpt_path else ""
            raise TrainingDiverged(f"{label if ckpt_path is None else task.name}: the loss became {terms['loss']} at "
                                   f"step {task.done + 1}; training stopped and this state was not saved{kept}",
                                   task.done + 1, terms["loss"])
        task.done += 1
        finished = task.done == task.iterations
        if ctx.is_main and (task.done % task.log_every == 0 or finished):
            rate = (task.done - first[task.name]) * task.batch_size * ctx.world_size / (time.perf_counter() - started)
            task.metrics.write(task.done, terms, samples_per_s=rate)
            if events:
                for key, value in {**terms, "samples_per_s": rate}.items():
                    events.add_scalar(f"{task.name}/{key}", value, task.done)
        every = task.trainer.picture_every
        if ctx.is_main and every and (task.done % every == 0 or finished):
            picture = task.trainer.picture()
            write_png(out / "pictures" / f"step_{task.done:06d}.png", picture)
            if events:
                events.add_image(task.trainer.picture_tag, picture, task.done, dataformats="HWC")
        if task.done % task.checkpoint_every == 0 or all(t.done == t.iterations for t in tasks):
            checkpoint()
        if ctx.is_main and finished:
            task.trainer.export(out)


