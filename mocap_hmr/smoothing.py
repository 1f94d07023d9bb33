"""Smooth a file of per-frame SMPL predictions (PoseBERT or a plain filter), keeping the file's layout.

The files (``.npz``, ``.pkl``/joblib, ``.pt``, ``.npy``) are read and written by
``mocap_hmr.prediction_files``, without running code from them; the layouts (4D-Humans/PHALP,
WHAM, GVHMR, TRAM, VIBE, and plain 'pose' / 'global_orient'+'body_pose' files, alone or as a
dict of tracks) are ``mocap_hmr.prediction_layouts``, which also says, per layout, which
fields are rewritten with the refined poses and which derived fields are dropped. The output
is the same kind of file, in the same layout, every other field kept as it was.

Each person is smoothed separately (a ``mocap_hmr.smoothers.Smoother``), or only the one
``track`` names; a person with no finite frame is refused, naming the track. Frame numbers
(``frame_ids`` and the like) place the frames in time: the frames between two of a track's
frames are inserted as unobserved frames, so windows span real time and the gaps are filled
in by the smoother; only the file's own frames are written back. A person with a second
root (WHAM's and GVHMR's world frame) is smoothed once more for that root.

Acceleration (the report): the mean over frames and joints of ``|R[t-1] - 2 R[t] + R[t+1]|``
(Frobenius norm of the second difference of the joint rotation matrices, per frame^2 at the
file's frame rate), over the frames whose neighbours are both observed in the input, the
same frames before and after. It needs no body model; it is not the usual joint-position
acceleration error (mm/frame^2).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mocap_hmr.prediction_files import (
    PredictionsFileError,
    file_kind,
    is_compressed_npz,
    read_predictions,
    write_predictions,
)
from mocap_hmr.prediction_layouts import Person, find_people
from mocap_hmr.smoothers import Smoother

__all__ = ["PredictionsFileError", "SmoothingReport", "TrackReport", "acceleration", "read_people",
           "read_predictions", "smooth_file", "smooth_person"]


@dataclass
class TrackReport:
    """One person: frames written, frames filled in (not observed, or between detections),
    acceleration before and after (None with fewer than 3 consecutive observed frames)."""

    track: str
    frames: int
    filled: int
    accel_before: float | None
    accel_after: float | None


@dataclass
class SmoothingReport:
    src: Path
    dst: Path
    layout: str
    method: str
    mode: str
    tracks: list[TrackReport] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line per track, for the command line."""
        def fmt(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.4f}"

        lines = [f"{self.src} -> {self.dst} ({self.layout}, {self.method}, {self.mode}); acceleration = mean |second "
                 "difference of joint rotation matrices| per frame^2"]
        for t in self.tracks:
            name = f"track {t.track}" if t.track else "person"
            lines.append(f"  {name}: {t.frames} frames, {t.filled} filled in, acceleration "
                         f"{fmt(t.accel_before)} -> {fmt(t.accel_after)}")
        if self.dropped:
            lines.append(f"  dropped (computed from the old poses): {', '.join(self.dropped)}")
        return "\n".join(lines)


def read_people(path: str | os.PathLike, track: str | None = None):
    """(file content, its ``People``), only the person ``track`` names when given."""
    path = Path(path)
    data = read_predictions(path)
    found = find_people(data, path)
    if track is not None:
        chosen = [p for p in found.people if p.track == str(track)]
        if not chosen:
            names = ", ".join(p.track or "(one person, no id)" for p in found.people)
            raise PredictionsFileError(f"{path}: no track {track}; its tracks: {names}")
        found.people = chosen
    return data, found


def smooth_file(src: str | os.PathLike, dst: str | os.PathLike, smoother: Smoother,
                track: str | None = None) -> SmoothingReport:
    """Smooth every person of ``src`` (or the one ``track`` names) with ``smoother`` and write
    ``dst``: the same kind of file and layout (see the module docstring). Returns the report."""
    src, dst = Path(src), Path(dst)
    kind = file_kind(src)
    if file_kind(dst) != kind:
        raise PredictionsFileError(f"{dst}: the output must be the same kind of file as {src} ({kind})")
    data, found = read_people(src, track)
    report = SmoothingReport(src=src, dst=dst, layout=found.layout, method=smoother.label, mode=smoother.mode)
    refined = []
    for person in found.people:
        rotations, track_report = smooth_person(person, smoother, src)
        refined.append((person, rotations))
        report.tracks.append(track_report)
    for person, rotations in refined:
        person.write(rotations)
    report.dropped = found.drop([p.track for p in found.people])
    write_predictions(dst, data, compressed=kind == "npz" and is_compressed_npz(src))
    return report


def acceleration(rotmat: torch.Tensor, observed: torch.Tensor) -> float | None:
    """rotmat (N, 24, 3, 3), observed (N,) bool -> mean over frames t with t-1, t, t+1 observed
    and over joints of the Frobenius norm of R[t-1] - 2 R[t] + R[t+1]; None without such t."""
    valid = observed[:-2] & observed[1:-1] & observed[2:]
    if not bool(valid.any()):
        return None
    second = rotmat[:-2] - 2 * rotmat[1:-1] + rotmat[2:]
    return float(second.flatten(2).norm(dim=-1)[valid].mean())


def on_timeline(person: Person, rotmat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A person's (N, 24, 3, 3) rotations placed on their timeline: (T, 24, 3, 3), NaN between
    the file's frames, and (T,) bool, the frames observed (finite)."""
    n = rotmat.shape[0]
    full = torch.full((int(person.timeline[-1]) + 1 if n else 0, 24, 3, 3), float("nan"))
    full[person.timeline] = rotmat
    return full, torch.isfinite(full.flatten(1)).all(1)


def smooth_person(person: Person, smoother: Smoother, source) -> tuple[dict[str, torch.Tensor], TrackReport]:
    """Refined rotations of one person, name -> (N, 24, 3, 3) (each name its own pass; see
    ``Person``), and its report (acceleration of the first rotations)."""
    refined, report = {}, None
    for name, rotmat in person.rotations.items():
        full, seen = on_timeline(person, rotmat)
        if rotmat.shape[0] and not bool(seen.any()):
            where = f"track {person.track}: " if person.track else "the person: "
            raise PredictionsFileError(f"{source}: {where}no frame has finite poses ({rotmat.shape[0]} frames, all "
                                       "NaN or Inf, or stale copies); there is nothing to smooth")
        out = smoother(full)
        refined[name] = out[person.timeline]
        if report is None:
            report = TrackReport(track=person.track, frames=rotmat.shape[0], filled=int((~seen).sum()),
                                 accel_before=acceleration(full, seen), accel_after=acceleration(out, seen))
    return refined, report


def first_person_rotations(path: str | os.PathLike) -> torch.Tensor:
    """(N, 24, 3, 3) rotations of the first person of a predictions file."""
    _, found = read_people(path)
    return next(iter(found.people[0].rotations.values()))
