"""The embedded world: two image domains with the paper's gap between them, made of
procedural motion and renderings (no licensed data).

- The **real** domain stands in for SPIN's training images: its own look, a suit coloured by
  body part on plain grey studio walls (``evaluation.embedded.real_look``; like a capture
  studio's suits, it makes limbs, left from right and front from back legible in a 64 px
  crop, as faces, hair and clothing make them in photographs: in bare skin before cluttered
  rooms the CPU-trained stand-in confused front and back and barely read poses,
  docs/evaluation.md), photo-like cameras (``PHOTO_CAMERAS``: any heading, pitch within 15
  degrees, roll within 5) and a *restricted* motion corpus: only the ``REAL_FAMILIES`` of a
  procedural corpus of its own (``REAL_SEED``), as image datasets hold people walking and
  standing far more than jumping, sitting or dancing.
- The **MoCap** domain is the full corpus (every family, seed 0, ``data.default_corpus``)
  rendered in the renderer's clothed look (random garments, procedural rooms) from the paper's full Tait-Bryan ranges
  (``samplers.cameras.CameraSampler``'s defaults).
- Test sets are in the real look, from a held-out corpus of new subjects (``HELD_OUT_SEED``):
  ``in-coverage`` (the real domain's families and cameras), ``pose-gap`` (the families the
  real domain lacks, its cameras) and ``view-gap`` (its families under the paper's full
  camera ranges).
- Validation sets are the same three recipes drawn from a corpus of other new subjects
  (``VALIDATION_SEED``): recipes (steps, learning rates, builds) are chosen on them, so that
  the test sets stay unseen until a recipe is fixed.

This module holds the definition and selects the corpora; rendering lives in ``renderers``,
the test sets in ``mocap_hmr.evaluation.embedded``.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable
from pathlib import Path

from mocap_hmr.data.default_corpus import default_motion_index
from mocap_hmr.data.motion_index import MotionIndex
from mocap_hmr.data.procedural import FAMILIES
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.paths import cache_dir

REAL_FAMILIES = ("walk", "run", "turn", "reach", "arm_swing")
GAP_FAMILIES = tuple(f for f in FAMILIES if f not in REAL_FAMILIES)
PHOTO_CAMERAS = {"yaw": 180.0, "pitch": 15.0, "roll": 5.0}  # degrees; the paper's ranges are 180, 45, 15
REAL_SEED, REAL_MINUTES = 1, 10.0  # the real domain's corpus (then restricted to REAL_FAMILIES)
HELD_OUT_SEED, HELD_OUT_MINUTES = 3, 5.0  # the test sets' corpus: neither domain holds it
VALIDATION_SEED = 5  # the validation sets' corpus (HELD_OUT_MINUTES long): no domain or test set holds it


def family_patterns(families: tuple[str, ...]) -> list[str]:
    """``fnmatch`` patterns of the procedural sequences of ``families`` (``<subject>/<family>_NNN``)."""
    return [f"*/{family}_*" for family in families]


def family_sequences(index: MotionIndex, families: tuple[str, ...]) -> list[int]:
    """Ids of the sequences of ``index`` whose procedural family is one of ``families``."""
    patterns = family_patterns(families)
    return [s for s, name in enumerate(index.names) if any(fnmatch.fnmatchcase(name, p) for p in patterns)]


def only_families(index: MotionIndex, families: tuple[str, ...]) -> MotionIndex:
    """The sequences of ``index`` whose procedural family is one of ``families``."""
    return index.select(family_sequences(index, families))


def real_domain_corpus(index: MotionIndex, gap_share: float = 0.0) -> MotionIndex:
    """The real domain's motion: the ``REAL_FAMILIES`` sequences of ``index`` (its corpus,
    ``real_motion_index``) and, when ``gap_share`` > 0, the middle part of every ``GAP_FAMILIES``
    sequence, each cut to the same fraction of its length so that they make ``gap_share`` of the
    frames: the pose gap as a tail of rare poses (as SPIN's datasets hold a few people jumping,
    sitting or dancing) instead of an absence. Every gap family and subject keeps its share."""
    real, gap = family_sequences(index, REAL_FAMILIES), family_sequences(index, GAP_FAMILIES)
    lengths = index.lengths.cpu()
    real_frames, gap_frames = int(lengths[real].sum()), int(lengths[gap].sum())
    most = gap_frames / (real_frames + gap_frames)  # every gap frame
    if not 0 <= gap_share <= most:
        raise MocapHMRError(f"stand_in_spin.gap_share must lie in [0, {math.floor(most * 100) / 100:g}] (the share "
                            f"of the gap families' frames in the real domain's corpus), got {gap_share}")
    if gap_share == 0:
        return index.select(real)
    fraction = gap_share * real_frames / ((1 - gap_share) * gap_frames)
    spans = [(0, int(n)) for n in lengths[real]]
    for n in lengths[gap].tolist():
        keep = max(1, round(fraction * n))
        spans.append(((n - keep) // 2, (n - keep) // 2 + keep))
    return index.select(real + gap, spans)


def real_motion_words(gap_share: float = 0.0) -> str:
    """The real domain's motion in words, for logs and tables: its families, and the tail's share."""
    families = ", ".join(REAL_FAMILIES)
    return f"{families} only" if gap_share == 0 else f"{families}; the other families as {gap_share:.0%} of the frames"


def real_motion_index(fps: float = 30.0, log: Callable[[str], None] = print) -> Path:
    """Index file of the real domain's procedural corpus (all families; select with
    ``only_families(..., REAL_FAMILIES)``), synthesized into the cache on first use."""
    return default_motion_index(fps=fps, minutes=REAL_MINUTES, seed=REAL_SEED, root=cache_dir() / "reference_motion",
                                log=log)


def held_out_motion_index(fps: float = 30.0, log: Callable[[str], None] = print) -> Path:
    """Index file of the held-out corpus the test sets are drawn from, synthesized on first use."""
    return default_motion_index(fps=fps, minutes=HELD_OUT_MINUTES, seed=HELD_OUT_SEED,
                                root=cache_dir() / "held_out_motion", log=log)


def validation_motion_index(fps: float = 30.0, log: Callable[[str], None] = print) -> Path:
    """Index file of the corpus the validation sets are drawn from, synthesized on first use."""
    return default_motion_index(fps=fps, minutes=HELD_OUT_MINUTES, seed=VALIDATION_SEED,
                                root=cache_dir() / "validation_motion", log=log)
