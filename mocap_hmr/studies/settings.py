"""The studies' configuration: the training schema plus a ``study`` section.

``mocap-hmr study NAME [--config FILE] [key=value ...]`` reads the same presets and keys as
``train.py`` (``mocap_spin.real`` and ``eval.real`` switch a study to real data), plus the
``study.*`` keys below, given as ``key=value`` or under ``study:`` in the preset. The defaults
are sized for the embedded default on a 2-core CPU (docs/studies.md gives the times); for the
paper's scale pass e.g. ``study.steps=14000 study.lr=3e-5``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig

from mocap_hmr.choices import ORACLE_LEVELS, STUDY_BACKGROUNDS, STUDY_BODIES
from mocap_hmr.config import TrainConfig, load_config

# the default selection of the trainable subsets (choices.TRAINABLE) and fractions a study compares
SUBSETS = ("bn", "bn+regressor", "regressor", "regressor+last-1", "all", "all-but-bn")
FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)


@dataclass
class StudySettings:
    # The starting model, trained once into <out_dir>/studies/start/ and shared by the studies
    # when mocap_spin.checkpoint names none and the stand-in SPIN is off (stand_in_spin.enabled=false):
    # every parameter trained on the real half alone, synthetic_fraction=0.
    start_steps: int = 1000
    start_lr: float = 1e-3
    # Every variant: fine-tuned from the starting model for this many steps at this rate
    # (mocap_spin.lr_milestones are scaled to the same fractions of the run); unset: the main
    # job's (mocap_spin.iterations, mocap_spin.lr), so that a study's "bn" variant is MoCap-SPIN.
    steps: int | None = None
    lr: float | None = None
    subsets: list[str] = field(default_factory=lambda: list(SUBSETS))  # trainable-subsets: choices.TRAINABLE
    # trainable-subsets: a learning rate of its own for a subset, where study.lr does not suit it (e.g.
    # {all: 1e-4}: every parameter at the batch norms' 1e-3 diverges); the control takes the one of "all"
    subset_lr: dict[str, float] = field(default_factory=dict)
    fractions: list[float] = field(default_factory=lambda: list(FRACTIONS))  # synthetic-fraction
    trainable: str = "bn"  # synthetic-fraction and oracle: the subset their variants fine-tune (bn: MoCap-SPIN)
    # synthetic-gap: the model (None: <out_dir>/mocap_spin.pt when train.py made one, else the
    # starting model), the embedded test set it re-renders (choices.EMBEDDED_IMAGE_SETS) and the
    # appearances it re-renders it with
    weights: str | None = None
    test_set: str = "pose-gap"
    # rendered-poses: the rendered halves' look and cameras (choices.RENDERED_LOOKS): the training
    # renderer's, or the real domain's, so that mainly their poses differ from the real half
    rendered_look: str = "training"
    backgrounds: list[str] = field(default_factory=lambda: list(STUDY_BACKGROUNDS))
    bodies: list[str] = field(default_factory=lambda: list(STUDY_BODIES))
    oracle_levels: list[str] = field(default_factory=lambda: list(ORACLE_LEVELS))  # oracle: cumulative
    # Every variant is trained this many times, on the streams of seed, seed + 1, ...: tables give the
    # means, the spread over seeds, and differences with error bars that include training noise.
    seeds: int = 1
    # Variants of one study replay the same rendered batches; they are kept in memory up to this size
    # (beyond it every variant renders them again, from the same seed).
    cache_mb: int = 2048


@dataclass
class StudyConfig(TrainConfig):
    study: StudySettings = field(default_factory=StudySettings)


def load_study_config(config_file: str | Path | None = None, overrides: list[str] | None = None) -> DictConfig:
    """Schema defaults <- YAML preset <- ``key=value`` overrides, ``study.*`` keys included;
    ``study.steps`` and ``study.lr`` filled in from ``mocap_spin`` where unset."""
    cfg = load_config(config_file, overrides, schema=StudyConfig)
    if cfg.study.steps is None:
        cfg.study.steps = cfg.mocap_spin.iterations
    if cfg.study.lr is None:
        cfg.study.lr = cfg.mocap_spin.lr
    return cfg
