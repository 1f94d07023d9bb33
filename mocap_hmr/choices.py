"""Every configuration key whose value is one of a few names, and those names, declared once.

Values stay plain strings in YAML presets, ``key=value`` overrides and saved run
configurations. ``config_rules`` checks every key of ``CHOICES`` (and every item of the list
keys of ``LIST_CHOICES``) when the configuration loads, one line per bad value naming the key
and the names below; the modules that act on a choice import its names from here. A module
that keeps data per name (``models.resnet.ARCHITECTURES``, ``models.posebert.VARIANTS`` and
``INPUTS``, ``metrics.ALIGNS``) keys it by these names (tests/test_config_choices.py checks).
Imports nothing of the project, so every room may import it.
"""

from __future__ import annotations

import re

# render.backend: the rasterizer (auto: pytorch3d where it imports and the device is CUDA)
BACKENDS = ("auto", "torch", "pytorch3d")
# mocap_spin.backbone: HMR's ResNet
BACKBONES = ("resnet50", "resnet18", "tiny")
# mocap_spin.trainable, study.trainable, study.subsets: which parameters of HMR train (Table 7;
# models.finetune)
TRAINABLE = ("bn", "bn+regressor", "regressor", "regressor+last-1", "regressor+last-2", "regressor+last-3",
             "regressor+last-4", "all", "all-but-bn", "bn-stats")
# mocap_spin.synthetic_source: rendered poses from the motion corpus, or the real half's poses
SYNTHETIC_SOURCES = ("motion", "paired")
# study.rendered_look: rendered-poses draws its rendered halves in the training renderer's look and
# cameras, or in the real domain's (then mainly their poses differ from the real half)
RENDERED_LOOKS = ("training", "real")
# mocap_spin.precision: HMR's forward under bf16 autocast on CUDA, or float32 throughout
PRECISIONS = ("bf16", "fp32")
# posebert.variant: the paper's architecture, or the released code's
POSEBERT_VARIANTS = ("paper", "released")
# posebert.input: 24 SMPL rotations (6D), or 17 H36M 3D keypoints
POSEBERT_INPUTS = ("smpl", "h36m")
# posebert.view: roots seen from random cameras, or in the corpus frame
VIEWS = ("camera", "world")
# posebert.start: the regressor's starting pose
STARTS = ("mean", "input", "smoothed")
# posebert.regressor: in every block, or once on top
REGRESSOR_PLACEMENTS = ("blocks", "top")
# posebert.positional_encoding: the positional table added at the input, before every block, or none
POSITIONAL_ENCODINGS = ("input", "every_block", "none")
# posebert.mask_mode: frames masked independently, or in spans
MASK_MODES = ("bernoulli", "span")
# eval.embedded: the embedded benchmarks eval.py runs; "image" is the three image test sets
# (embedded-in-coverage, embedded-pose-gap, embedded-view-gap), each also by its own name
EMBEDDED_IMAGE_SETS = ("in-coverage", "pose-gap", "view-gap")
EMBEDDED_BENCHMARKS = ("image", *EMBEDDED_IMAGE_SETS, "video", "denoising", "generalisation")
# eval.split: which corpus the embedded image sets are drawn from (test: the held-out corpus the reports
# give; validation: the one recipes are chosen on)
EVAL_SPLITS = ("test", "validation")
# eval.align: the root alignment of MPJPE (pelvis: SPIN's protocol; hips: VIBE, TCMR, WHAM)
EVAL_ALIGNS = ("pelvis", "hips")
# study.backgrounds, study.bodies: the appearances synthetic-gap re-renders the test set with
STUDY_BACKGROUNDS = ("black", "grey", "noise", "scenes")
STUDY_BODIES = ("grey", "skin", "suit", "clothed")
# study.oracle_levels: what the oracle renders from the test set, cumulative, in this order
ORACLE_LEVELS = ("pose", "orientation", "camera", "appearance")

# device: a pattern, not a list of names
DEVICE = re.compile(r"auto|cpu|cuda(:\d+)?")
DEVICES = "auto, cpu, cuda or cuda:N"

CHOICES: dict[str, tuple[str, ...]] = {
    "render.backend": BACKENDS,
    "mocap_spin.backbone": BACKBONES,
    "mocap_spin.trainable": TRAINABLE,
    "mocap_spin.synthetic_source": SYNTHETIC_SOURCES,
    "mocap_spin.precision": PRECISIONS,
    "posebert.variant": POSEBERT_VARIANTS,
    "posebert.input": POSEBERT_INPUTS,
    "posebert.view": VIEWS,
    "posebert.start": STARTS,
    "posebert.regressor": REGRESSOR_PLACEMENTS,
    "posebert.positional_encoding": POSITIONAL_ENCODINGS,
    "posebert.mask_mode": MASK_MODES,
    "eval.align": EVAL_ALIGNS,
    "eval.split": EVAL_SPLITS,
    "study.trainable": TRAINABLE,
    "study.test_set": EMBEDDED_IMAGE_SETS,
    "study.rendered_look": RENDERED_LOOKS,
}
# list keys: every item one of the names
LIST_CHOICES: dict[str, tuple[str, ...]] = {
    "eval.embedded": EMBEDDED_BENCHMARKS,
    "study.subsets": TRAINABLE,
    "study.backgrounds": STUDY_BACKGROUNDS,
    "study.bodies": STUDY_BODIES,
    "study.oracle_levels": ORACLE_LEVELS,
}
