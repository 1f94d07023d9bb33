"""One person's SMPL motion, ready to export: rotations, translation, shape, frame rate.

``motion_from_file`` takes it from any predictions file ``mocap-hmr smooth`` reads
(``prediction_layouts``): the rotations of the layout's motion frame (the world frame for
WHAM and GVHMR, the file's own otherwise), its translation where the file has one (WHAM's
``trans_world``, GVHMR's global ``transl``, TRAM's ``pred_trans``, PHALP's ``camera``, a
``trans``/``transl`` array; zero otherwise) and its betas averaged over the frames (none for
GVHMR: its betas are SMPL-X's, not SMPL's). Frames are laid out on the file's timeline; a
frame the file does not have, or an unobserved one, holds the last frame before it (the first
one before any), so that time in the export is the video's time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.errors import MocapHMRError


@dataclass
class Motion:
    """rotations (N, 24, 3, 3) local joint rotations (SMPL's); transl (N, 3) metres, added to
    every joint (SMPL's ``transl``); betas (10,) or None; fps frames per second."""

    rotations: torch.Tensor
    transl: torch.Tensor
    betas: torch.Tensor | None
    fps: float

    def posed(self, body: BodyModel):
        """The body's output for every frame (``BodyOutput``: vertices (N, V, 3), joints (N, 24, 3))."""
        n = self.rotations.shape[0]
        betas = None if self.betas is None else self.betas[None, : body.num_betas].expand(n, -1)
        with torch.no_grad():
            return body(self.rotations, betas, self.transl)


def rest_skeleton(body: BodyModel, betas: torch.Tensor | None = None) -> torch.Tensor:
    """(24, 3) joint positions of the body in its rest pose with ``betas`` (10,), at the origin."""
    shape = None if betas is None else betas[None, : body.num_betas]
    with torch.no_grad():
        return body(torch.zeros(1, 24, 3), shape).joints[0]


def motion_from_file(path: str | os.PathLike, track: str | None = None, fps: float = 30.0) -> Motion:
    """The motion of the one person in ``path``, or of ``track`` (see the module docstring)."""
    from mocap_hmr.smoothing import read_people

    _, found = read_people(path, track)
    if len(found.people) != 1:
        names = ", ".join(p.track for p in found.people)
        raise MocapHMRError(f"{path}: holds {len(found.people)} people (tracks {names}); choose one with --track")
    person = found.people[0]
    rotmat = person.rotations[person.motion_frame]
    frames = int(person.timeline[-1]) + 1 if len(person.timeline) else 0
    observed = torch.zeros(frames, dtype=torch.bool)
    observed[person.timeline] = torch.isfinite(rotmat.flatten(1)).all(1)
    if not bool(observed.any()):
        raise MocapHMRError(f"{path}: {('track ' + person.track + ': ') if person.track else ''}no frame has finite "
                            "poses; there is nothing to export")
    slot = torch.full((frames,), -1, dtype=torch.long)
    slot[person.timeline[observed[person.timeline]]] = torch.nonzero(observed[person.timeline])[:, 0]
    last = torch.cummax(torch.where(slot >= 0, torch.arange(frames), -1), 0).values
    held = torch.where(last >= 0, slot[last.clamp(min=0)], slot[int(torch.nonzero(slot >= 0)[0])])
    transl = torch.zeros(len(rotmat), 3) if person.transl is None else torch.from_numpy(
        np.asarray(person.transl, np.float32).reshape(len(rotmat), 3))
    betas = None if person.betas is None or person.joints != 24 else torch.from_numpy(
        np.asarray(person.betas, np.float32).reshape(-1, np.shape(person.betas)[-1]).mean(0))
    return Motion(rotmat[held], transl[held], betas, fps)
