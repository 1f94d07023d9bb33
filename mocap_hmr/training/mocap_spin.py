"""The MoCap-SPIN step: a batch mixing rendered crops with real ones, SPIN's losses,
batch-norm-only (by default) updates of HMR.

Both halves come as ``CropBatch``-shaped batches from a ``sample(n, generator)``
source: the on-the-fly renderer for the synthetic half; for the real half, SPIN's datasets
(``mocap_hmr.data.real_stream``) when configured, else the embedded world's real-domain crops (see
``training.runner.build_streams``) so that a run without licensed data still mixes two
image domains.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig
from torch import nn

from mocap_hmr.body import BodyModel
from mocap_hmr.choices import PRECISIONS
from mocap_hmr.data.crop_batch import CropBatch
from mocap_hmr.data.real_stream import RealImageStream
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.geometry.cameras import project_spin
from mocap_hmr.losses import (
    GT_JOINTS,
    SpinLossWeights,
    camera_loss,
    crop_camera_loss,
    feature_contrastive_loss,
    feature_cosine_loss,
    feature_l2_loss,
    keypoint_2d_loss,
    keypoint_3d_loss,
    smpl_loss,
)
from mocap_hmr.models.checkpoints import save_spin_checkpoint
from mocap_hmr.models.finetune import select_trainable, trainable_parameters
from mocap_hmr.models.hmr import HMROutput, build_hmr
from mocap_hmr.training.compile import compile_errors, compile_once, host_floats
from mocap_hmr.training.distributed import all_finite, unwrap
from mocap_hmr.vis.grids import overlay_picture

ALIGNMENT_LOSSES = {"l2": feature_l2_loss, "cosine": feature_cosine_loss, "contrastive": feature_contrastive_loss}
PHASES = ("render", "real data", "forward", "backward", "optimizer")  # the parts of a step, in order
START_MODEL, FINAL_MODEL = "mocap_spin_start.pt", "mocap_spin.pt"  # in a run folder (training.runner)


def profiler_label(phase: str):
    """The default ``MocapSpinTrainer.phase``: a ``torch.profiler`` label, free when no profiler runs."""
    return torch.profiler.record_function(f"mocap_spin/{phase}")


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The dtype HMR's forward runs in under autocast, or None for float32:
    ``mocap_spin.precision`` bf16 autocasts on CUDA only, fp32 never does."""
    if precision not in PRECISIONS:
        raise MocapHMRError(f"mocap_spin.precision='{precision}' is not one of {', '.join(PRECISIONS)}")
    return torch.bfloat16 if precision == "bf16" and device.type == "cuda" else None


def concat_batches(parts: list[CropBatch]) -> CropBatch:
    parts = [p for p in parts if p is not None]
    return CropBatch(**{f.name: torch.cat([getattr(p, f.name) for p in parts]) for f in fields(CropBatch)})


class MocapSpinTrainer:
    """Owns the model, optimizer and scheduler; ``step(generator)`` runs one update.
    sync_batchnorm: HMR's batch norms as ``SyncBatchNorm``, for several processes (README,
    "Several GPUs"). ``phase(name)``: a context manager around each of the ``PHASES`` of a
    step (a profiler label; bench/train_step.py puts a timer there). What a run folder gets
    from it (``training.runner`` asks): ``picture()`` every ``picture_every`` steps,
    ``export_start(out)`` before the first step, ``export(out)`` after the last."""

    picture_tag = "mocap_spin/predictions"

    def __init__(self, cfg: DictConfig, body: BodyModel, synthetic, real, device: torch.device, log=print,
                 sync_batchnorm: bool = False):
        self.cfg, self.body, self.synthetic, self.real, self.device = cfg, body, synthetic, real, device
        self.model = build_hmr(cfg, device)
        if sync_batchnorm:  # before select_trainable, which keeps a list of the frozen batch norms
            self.model = nn.SyncBatchNorm.convert_sync_batchnorm(self.model)
        total = sum(p.numel() for p in self.model.parameters())
        trainable = select_trainable(self.model, cfg.trainable)
        log(f"mocap_spin: {cfg.backbone}, trainable '{cfg.trainable}': {trainable:,} of {total:,} parameters "
            f"({100 * trainable / total:.2f}%)")
        parameters = trainable_parameters(self.model)  # none for bn-stats: a step is a forward pass in train mode
        self.optimizer = torch.optim.Adam(parameters, lr=cfg.lr) if parameters else None
        self.scheduler = (torch.optim.lr_scheduler.MultiStepLR(self.optimizer, list(cfg.lr_milestones), cfg.lr_gamma)
                          if parameters else None)
        self.weights = SpinLossWeights(**cfg.loss)
        self.n_synthetic = round(cfg.batch_size * cfg.synthetic_fraction)
        self.paired = cfg.synthetic_source == "paired"
        if self.paired and 2 * self.n_synthetic != cfg.batch_size:
            raise MocapHMRError("mocap_spin.synthetic_source=paired renders the real half sample for sample: it needs "
                                f"synthetic_fraction=0.5 and an even batch_size (got {cfg.synthetic_fraction}, "
                                f"{cfg.batch_size})")
        self.last_batch = self.last_output = None
        self.phase = profiler_label
        self.autocast = autocast_dtype(cfg.precision, device)
        # channels_last: convolutions' fast layout on recent GPUs and on CPUs (oneDNN; docs/benchmarks.md)
        self.model = self.model.to(memory_format=torch.channels_last)
        self.compile_pending = cfg.compile  # at the first step: after the runner's DDP wrap (training.compile)
        if cfg.compile:
            log("mocap_spin: compile=true: HMR is compiled at the first step (which takes longer)")

    def batch(self, generator: torch.Generator) -> CropBatch:
        n_real = self.cfg.batch_size - self.n_synthetic
        with torch.no_grad():  # targets and images need no gradient
            if not self.paired:
                with self.phase("render"):
                    rendered = self.synthetic.sample(self.n_synthetic, generator) if self.n_synthetic else None
                with self.phase("real data"):
                    real = self.real.sample(n_real, generator) if n_real else None
                return concat_batches([rendered, real])
            with self.phase("real data"):
                real = self.real.sample(n_real, generator)
            with self.phase("render"):
                rendered = self._paired_renderings(real, generator)
            return concat_batches([rendered, real])

    def _paired_renderings(self, real: CropBatch, generator: torch.Generator) -> CropBatch:
        """One rendering per real sample: its SMPL target as that camera sees it where it has
        one (ground truth or a valid fit), elsewhere a corpus pose (``render_targets``)."""
        return self.synthetic.render_targets(real.pose, real.betas, real.has_smpl, generator)

    def losses(self, batch: CropBatch) -> dict[str, torch.Tensor]:
        """SPIN's loss terms and their weighted total for a batch; the keypoint terms only where
        weighted (``loss.keypoints_2d`` or ``loss.keypoints_3d`` not 0), the crop-camera term
        (not SPIN's) only where ``loss.crop_camera`` is not 0."""
        w = self.weights
        images = batch.images.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=self.autocast, enabled=self.autocast is not None):
            out = self.model(images)
        out = HMROutput(**{k: v.float() for k, v in vars(out).items()})  # the body model and losses in float32
        terms = {"camera": camera_loss(out.camera)}
        terms["pose"], terms["betas"] = smpl_loss(out.rotmat, out.betas, axis_angle_to_matrix(batch.pose),
                                                  batch.betas, batch.has_smpl)
        terms["loss"] = w.scale * (w.pose * terms["pose"] + w.betas * terms["betas"] + terms["camera"])
        if w.crop_camera:
            terms["crop_camera"] = crop_camera_loss(out.camera, batch.camera)
            terms["loss"] = terms["loss"] + w.scale * w.crop_camera * terms["crop_camera"]
        if w.keypoints_2d or w.keypoints_3d:  # the body's forward pass is most of a tiny model's step
            spin_joints = self.body(out.rotmat, out.betas).spin_joints
            gt3d = torch.cat([batch.joints3d[:, GT_JOINTS], batch.joints3d_conf[:, GT_JOINTS, None]], -1)
            terms["keypoints_2d"] = keypoint_2d_loss(project_spin(spin_joints, out.camera, batch.images.shape[-1]),
                                                     batch.joints2d, w)
            terms["keypoints_3d"] = keypoint_3d_loss(spin_joints[:, GT_JOINTS], gt3d, batch.has_3d)
            terms["loss"] = terms["loss"] + w.scale * (w.keypoints_2d * terms["keypoints_2d"]
                                                       + w.keypoints_3d * terms["keypoints_3d"])
        if self.paired:
            terms.update(self._alignment(out.features, batch.has_smpl))
            terms["loss"] = terms["loss"] + sum(terms[f"align_{k}"] * getattr(self.cfg.feature_alignment, k)
                                                for k in ALIGNMENT_LOSSES)
        self.last_output = out
        return terms

    def _alignment(self, features: torch.Tensor, has_smpl: torch.Tensor) -> dict[str, torch.Tensor]:
        """Feature-alignment terms between each rendering (first half) and its real sample
        (second half), over the pairs whose real sample has SMPL parameters."""
        n = self.n_synthetic
        keep = has_smpl[n:]
        rendered, real = features[:n][keep], features[n:][keep]
        if len(real) < 2:  # the contrastive term needs other pairs to contrast with
            zero = features.sum() * 0
            return {f"align_{k}": zero for k in ALIGNMENT_LOSSES}
        temperature = self.cfg.feature_alignment.temperature
        return {f"align_{k}": fn(real, rendered) if k != "contrastive" else fn(real, rendered, temperature)
                for k, fn in ALIGNMENT_LOSSES.items()}

    @compile_errors("mocap_spin.compile")
    def step(self, generator: torch.Generator) -> dict[str, float]:
        """One optimisation step (with nothing trainable, one forward pass that updates the batch
        norms' statistics); returns the loss terms as floats."""
        self.compile_pending = compile_once(self.model, self.compile_pending)
        self.model.train()
        self.last_batch = self.batch(generator)
        with self.phase("forward"), torch.set_grad_enabled(self.optimizer is not None):
            terms = self.losses(self.last_batch)
            finite = all_finite(terms["loss"])  # with several processes: all skip the backward, or none
        if not finite or self.optimizer is None:
            return host_floats(terms)
        with self.phase("backward"):
            self.optimizer.zero_grad(set_to_none=True)
            terms["loss"].backward()
        with self.phase("optimizer"):
            self.optimizer.step()
            self.scheduler.step()
        return host_floats(terms) | {"lr": self.scheduler.get_last_lr()[0]}

    @property
    def picture_every(self) -> int:
        return self.cfg.picture_every

    def picture(self) -> np.ndarray:
        """The last batch's crops with the predicted meshes drawn over them, (H, W, 3) uint8."""
        out = self.last_output
        with torch.no_grad():
            vertices = self.body(out.rotmat, out.betas).vertices
        return overlay_picture(self.last_batch.images, vertices, out.camera.detach(), self.body.faces)

    def export_start(self, out: Path) -> None:
        """``out/mocap_spin_start.pt``: the starting model, where the run starts from its
        initialisation rather than a checkpoint (the model ``eval.py`` compares with)."""
        if not self.cfg.checkpoint:
            save_spin_checkpoint(unwrap(self.model), out / START_MODEL)

    def export(self, out: Path) -> None:
        """``out/mocap_spin.pt``: the trained image model in SPIN's checkpoint layout."""
        save_spin_checkpoint(unwrap(self.model), out / FINAL_MODEL)

    def state_dict(self) -> dict:
        """Model, optimizer, scheduler and, for real images, the stream's position."""
        real = {"real": self.real.state_dict()} if isinstance(self.real, RealImageStream) else {}
        optimizer = {} if self.optimizer is None else {"optimizer": self.optimizer.state_dict(),
                                                       "scheduler": self.scheduler.state_dict()}
        return {"model": self.model.state_dict(), **optimizer, **real}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        if self.optimizer is not None:
            self.optimizer.load_state_dict(state["optimizer"])
            self.scheduler.load_state_dict(state["scheduler"])
        if isinstance(self.real, RealImageStream):
            self.real.load_state_dict(state["real"])
