"""What every study is made of: a starting model, variants fine-tuned from it, and their scores.

- ``StudyContext.open(cfg, name)``: the device, body, motion corpus and folders of one study
  (``<out_dir>/studies/<name>/``).
- ``starting_model(study)``: ``mocap_spin.checkpoint`` when set (SPIN's, as the paper; in the
  embedded default the stand-in SPIN, ``training.stand_in_spin``), else (real datasets without a
  checkpoint, or ``stand_in_spin.enabled=false``) a model trained once on the real half alone,
  every parameter, ``study.start_steps`` steps at ``study.start_lr``; written to
  ``<out_dir>/studies/start/`` and shared by all studies.
- ``fine_tune_config(study, start, **changes)``: ``mocap_spin`` for a variant: from ``start``,
  ``study.steps`` steps at ``study.lr``, the milestones of ``mocap_spin.lr_milestones`` at the
  same fractions of the run, rendered poses from the motion corpus (``synthetic_source=motion``:
  the studies' halves are drawn independently, so ``paired`` does not apply).
- ``train_variant(study, label, spin_cfg, synthetic, real)``: trains it with ``MocapSpinTrainer`` (``build_mocap_spin``)
  on ``SharedStream``s and writes ``variants/<label>/mocap_spin.pt``, ``metrics_mocap_spin.csv`` and
  ``variant.json``. A variant whose weights exist and whose ``variant.json`` matches its
  settings (configuration, streams, starting weights) is not trained again. One whose loss
  became NaN or inf leaves ``diverged.json`` (its settings, the step and the loss) instead and
  raises ``TrainingDiverged``, again without training while its settings stay the same.
- ``train_repeats``: a variant trained ``study.seeds`` times; one whose repeat diverged has no
  models and is named in ``study.diverged`` (a row of its own in the study's table, see
  ``scores.Scores``), and the study goes on.
- ``evaluate_models(study, methods)``: each model on the embedded world's three image sets and on every
  ``eval.real`` benchmark; predictions cached under the study's ``predictions/``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from mocap_hmr.atomic import atomic_write
from mocap_hmr.body import BodyModel
from mocap_hmr.body.standin import resolve_body_model
from mocap_hmr.data.motion_index import MotionIndex
from mocap_hmr.errors import MocapHMRError, TrainingDiverged
from mocap_hmr.evaluation.benchmark_eval import Method
from mocap_hmr.evaluation.predict import load_image_model
from mocap_hmr.evaluation.results import Result
from mocap_hmr.evaluation.run import embedded_images, real_benchmarks, smpl_protocol
from mocap_hmr.paths import slug
from mocap_hmr.studies.scores import repeat_name
from mocap_hmr.studies.streams import SharedStream
from mocap_hmr.studies.tables import WORLD_SETS
from mocap_hmr.training.distributed import resolve_device
from mocap_hmr.training.mocap_spin import FINAL_MODEL
from mocap_hmr.training.runner import build_mocap_spin, build_streams, load_motion, run_steps, with_starting_model

# Seeds of the studies' streams, offset from ``seed``: the starting model sees other samples than the variants.
STREAM_SEEDS = {"synthetic": 1, "real": 2, "start": 3, "custom": 4}
STREAMS_VERSION = 1  # bump when the way streams draw samples changes: variants trained before are retrained
START_DIR = "start"
DIVERGED = "diverged.json"  # a variant's record of a training whose loss became NaN or inf


@dataclass
class StudyContext:
    """One study's surroundings. folder: ``<out_dir>/studies/<name>``; root: ``<out_dir>/studies``."""

    name: str
    cfg: DictConfig
    folder: Path
    root: Path
    device: torch.device
    body: BodyModel
    index: MotionIndex
    log: Callable[[str], None] = print
    diverged: dict[str, str] = field(default_factory=dict)  # label -> how its training diverged
    _sources: dict = field(default_factory=dict)
    _streams: dict = field(default_factory=dict)

    @classmethod
    def open(cls, cfg: DictConfig, name: str, log=print) -> StudyContext:
        if cfg.study.seeds < 1:
            raise MocapHMRError(f"study.seeds={cfg.study.seeds}: train every variant at least once (1)")
        device = resolve_device(cfg.device)
        root = Path(cfg.out_dir) / "studies"
        body = BodyModel(resolve_body_model(cfg.body.model_path, log=log)).to(device)
        cfg = with_starting_model(cfg, body, device, log)
        return cls(name, cfg, root / name, root, device, body, load_motion(cfg, device, log), log)

    @property
    def settings(self) -> DictConfig:
        return self.cfg.study

    @property
    def real_data(self) -> bool:
        return bool(self.cfg.mocap_spin.real)

    def sources(self, real_width: int) -> tuple[object, object]:
        """The renderer and the real-half source (``training.runner.build_streams``), the latter
        yielding ``real_width`` samples per call (SPIN's datasets need it fixed)."""
        if real_width not in self._sources:
            spin = self.cfg.mocap_spin
            fraction = 1.0 - real_width / spin.batch_size
            cfg = OmegaConf.merge(self.cfg, {"mocap_spin": {"synthetic_fraction": fraction}})
            self._sources[real_width] = build_streams(cfg, self.body, self.device, self.log, index=self.index)
        return self._sources[real_width]

    def stream(self, kind: str, width: int, source=None, repeat: int = 0) -> SharedStream | None:
        """The study's shared stream of ``kind`` (synthetic | real | start), ``width`` samples per
        batch, for repeat ``repeat`` (seeded from ``seed + repeat``); ``source`` gives a stream of its
        own (kind "custom"), not kept."""
        if width == 0:
            return None
        budget = int(self.settings.cache_mb) * 2**20
        seed = (self.cfg.seed + repeat) * 1000 + STREAM_SEEDS[kind]
        if source is not None:
            return SharedStream(source, width, seed, self.device, budget_bytes=0)  # one variant reads it
        if (kind, width, repeat) not in self._streams:
            if kind == "synthetic":  # the renderer is the same whatever the real half's width
                source = (next(iter(self._sources.values())) if self._sources
                          else self.sources(self.cfg.mocap_spin.batch_size))[0]
            else:
                source = self.sources(width)[1]
            self._streams[kind, width, repeat] = SharedStream(source, width, seed, self.device, budget)
        return self._streams[kind, width, repeat]


def _scaled_milestones(cfg: DictConfig, steps: int) -> list[int]:
    """``mocap_spin.lr_milestones`` at the same fractions of a run of ``steps`` as of ``mocap_spin.iterations``."""
    total = cfg.mocap_spin.iterations
    return [round(m * steps / total) for m in cfg.mocap_spin.lr_milestones if m < total]


def starting_model(study: StudyContext) -> Path:
    """The model every variant starts from (see the module docstring)."""
    spin = study.cfg.mocap_spin
    if spin.checkpoint:
        if not Path(spin.checkpoint).is_file():
            raise MocapHMRError(f"mocap_spin.checkpoint={spin.checkpoint}: no such file (the studies fine-tune it)")
        return Path(spin.checkpoint)
    st = study.settings
    start_cfg = OmegaConf.merge(spin, {
        "trainable": "all", "synthetic_fraction": 0.0, "synthetic_source": "motion", "checkpoint": None,
        "iterations": st.start_steps, "lr": st.start_lr, "lr_milestones": _scaled_milestones(study.cfg, st.start_steps),
    })
    return train_variant(study, "starting model", start_cfg, None, study.stream("start", spin.batch_size),
                         folder=study.root / START_DIR)


def fine_tune_config(study: StudyContext, start: Path, **changes) -> DictConfig:
    """``mocap_spin`` of a variant fine-tuned from ``start`` (changes: other mocap_spin keys)."""
    st = study.settings
    return OmegaConf.merge(study.cfg.mocap_spin, {
        "checkpoint": str(start), "iterations": st.steps, "lr": st.lr, "synthetic_source": "motion",
        "lr_milestones": _scaled_milestones(study.cfg, st.steps), **changes})


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(2**20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


def _identity(study: StudyContext, spin_cfg: DictConfig, synthetic: SharedStream | None, real: SharedStream | None,
              synthetic_label: str) -> dict:
    """Everything a variant's weights depend on, as JSON."""
    cfg = study.cfg
    start = spin_cfg.checkpoint
    return {"mocap_spin": OmegaConf.to_container(spin_cfg, resolve=True),
            "start_digest": file_digest(Path(start)) if start else None,
            "render": OmegaConf.to_container(cfg.render, resolve=True),
            "motion": OmegaConf.to_container(cfg.motion, resolve=True), "body": cfg.body.model_path,
            "seed": cfg.seed, "device": study.device.type, "streams_version": STREAMS_VERSION,
            "synthetic": synthetic_label if synthetic else None,
            "streams": {k: [s.width, s.seed] if s else None for k, s in (("synthetic", synthetic), ("real", real))}}


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _finished(folder: Path, identity: dict) -> bool:
    return (folder / FINAL_MODEL).is_file() and _read_json(folder / "variant.json") == identity


def train_variant(study: StudyContext, label: str, spin_cfg: DictConfig, synthetic: SharedStream | None,
                  real: SharedStream | None, synthetic_label: str = "motion", folder: Path | None = None,
                  repeat: int = 0) -> Path:
    """Train one variant (see the module docstring); returns its ``mocap_spin.pt``.

    synthetic, real: the two halves (``None`` where the variant takes no samples from one);
    synthetic_label: what the synthetic half is, for ``variant.json``; repeat: which of the
    ``study.seeds`` runs (torch seeded with ``seed + repeat``)."""
    folder = folder or study.folder / "variants" / slug(label)
    weights = folder / FINAL_MODEL
    identity = {**_identity(study, spin_cfg, synthetic, real, synthetic_label), "repeat": repeat}
    identity = json.loads(json.dumps(identity))
    if _finished(folder, identity):
        study.log(f"study {study.name}: '{label}' was trained with these settings already ({weights})")
        return weights
    what = f"study {study.name}, '{label}' (mocap_spin.lr={spin_cfg.lr}: study.lr / study.start_lr set it)"
    earlier = _read_json(folder / DIVERGED)
    if earlier is not None and earlier.get("settings") == identity:
        raise TrainingDiverged(f"{what}: the loss became {earlier['loss']} at step {earlier['step']} with these "
                               f"settings already ({folder / DIVERGED})", earlier["step"], float(earlier["loss"]))
    for stream in (synthetic, real):
        if stream is not None:
            stream.rewind()
    torch.manual_seed(study.cfg.seed + repeat)
    trainer = build_mocap_spin(study.cfg, study.body, study.device, study.log, streams=(synthetic, real), spin=spin_cfg)
    unused = torch.Generator(device=study.device)  # the shared streams draw from their own generators
    try:
        run_steps(study.cfg, "mocap_spin", trainer, spin_cfg.iterations, spin_cfg.batch_size, folder, unused, what)
    except TrainingDiverged as exc:
        record = {"settings": identity, "step": exc.step, "loss": str(exc.loss)}  # nan, inf: JSON has no such number
        atomic_write(folder / DIVERGED, lambda fh: fh.write(json.dumps(record, indent=1).encode()))
        raise
    (folder / DIVERGED).unlink(missing_ok=True)
    atomic_write(folder / "variant.json", lambda fh: fh.write(json.dumps(identity, indent=1).encode()))
    return weights


def train_repeats(study: StudyContext, label: str, spin_cfg: DictConfig,
                  halves: Callable[[int], tuple[SharedStream | None, SharedStream | None]], folder: Path | None = None,
                  synthetic_label: str = "motion") -> tuple[str, list[Method]]:
    """A variant trained ``study.seeds`` times: halves(repeat) gives the (synthetic, real) streams
    of each repeat; repeat k > 0 goes to ``<folder>_seed<seed + k>``. Returns (label, its models):
    none when a repeat diverged (the repeats after it are not trained; ``study.diverged`` says how)."""
    folder = folder or study.folder / "variants" / slug(label)
    methods = []
    for k in range(study.settings.seeds):
        name = repeat_name(label, study.cfg.seed, k)
        where = folder if k == 0 else folder.with_name(f"{folder.name}_seed{study.cfg.seed + k}")
        try:
            methods.append(Method(name, train_variant(study, name, spin_cfg, *halves(k), synthetic_label, where, k)))
        except TrainingDiverged as exc:
            study.diverged[label] = f"loss {exc.loss} at step {exc.step} of {spin_cfg.iterations}, seed " \
                                    f"{study.cfg.seed + k}, lr {spin_cfg.lr:g}"
            study.log(f"study {study.name}: {exc}; '{label}' is recorded as diverged and the study goes on")
            return label, []
    return label, methods


def evaluate_models(study: StudyContext, methods: list[Method], real: bool = True) -> list[Result]:
    """Each method on the embedded world's three image sets (``tables.WORLD_SETS``,
    ``eval.image_samples`` renderings of held-out motion each) and, with ``real``, on every
    ``eval.real`` benchmark."""
    cfg = study.cfg
    protocol = smpl_protocol(cfg.eval.align)
    cache = study.folder / "predictions"

    def load_model(weights: Path):
        return load_image_model(cfg.mocap_spin, weights, study.device)

    results, _, _ = embedded_images(cfg, study.body, methods, load_model, protocol, cache, study.log, list(WORLD_SETS))
    if real:
        results += real_benchmarks(cfg, study.body, methods, load_model, cache, study.device, study.log)
    return results


@dataclass
class StudyOutput:
    """What a study leaves: its folder, the files it wrote (table.md, table.json, pictures) and a
    few lines of summary."""

    name: str
    folder: Path
    files: dict[str, Path]
    summary: str
