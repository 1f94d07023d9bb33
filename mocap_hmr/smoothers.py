"""One interface for every way of smoothing a sequence of SMPL rotations: PoseBERT or one of
the plain filters it is compared with (``mocap_hmr.filters``).

A ``Smoother`` maps (N, 24, 3, 3) rotations, NaN on the frames nobody was seen in, to
(N, 24, 3, 3) rotations with every frame filled; ``mocap-hmr smooth --method``, the
evaluation's video rows and the benchmarks all build theirs with ``make_smoother``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from mocap_hmr.errors import MocapHMRError
from mocap_hmr.filters import FILTERS, LABELS, filter_rotations
from mocap_hmr.models.posebert import PoseBERT
from mocap_hmr.refinement import MODES, refine

METHODS = ("posebert", *FILTERS)


@dataclass(frozen=True)
class Smoother:
    """method: one of ``METHODS``; label: its name in tables; mode: offline | online;
    run: rotations (N, 24, 3, 3), NaN where unobserved -> (N, 24, 3, 3)."""

    method: str
    label: str
    mode: str
    run: Callable[[torch.Tensor], torch.Tensor]

    def __call__(self, rotmat: torch.Tensor) -> torch.Tensor:
        return self.run(rotmat)


def make_smoother(method: str, model: PoseBERT | None = None, mode: str = "offline", fps: float = 30.0,
                  window: int | None = None, stride: int | None = None, **filter_settings) -> Smoother:
    """``method`` "posebert" (needs ``model``; ``window``, ``stride`` as ``refine`` takes them) or
    a filter (``fps`` and its ``filter_settings``, see ``filters.DEFAULTS``)."""
    if method not in METHODS:
        raise MocapHMRError(f"method '{method}' is not one of {', '.join(METHODS)}")
    if mode not in MODES:
        raise MocapHMRError(f"mode '{mode}' is not one of {', '.join(MODES)}")
    if method == "posebert":
        if model is None:
            raise MocapHMRError("method 'posebert' needs a PoseBERT checkpoint (--checkpoint)")
        return Smoother(method, "PoseBERT", mode,
                        lambda rotmat: refine(rotmat, model, mode=mode, window=window, stride=stride))
    return Smoother(method, LABELS[method], mode,
                    lambda rotmat: filter_rotations(rotmat, method, mode=mode, fps=fps, **filter_settings))


def standard_smoothers(posebert: PoseBERT | None = None, fps: float = 30.0, mode: str = "offline",
                       filters: bool = True) -> list[Smoother]:
    """What every smoothing table shows: PoseBERT (when given) and (``filters``) every plain
    filter with its default settings."""
    return ([make_smoother("posebert", posebert, mode=mode)] if posebert is not None else []) + [
        make_smoother(method, mode=mode, fps=fps) for method in FILTERS if filters]
