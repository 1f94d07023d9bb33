"""Smooth a file of per-frame SMPL predictions (PoseBERT or a plain filter), keeping the file's layout.

Layouts understood (N frames; axis-angle or rotation matrices):

    pose                        (N, 72) | (N, 24, 3) | (N, 24, 3, 3)
    global_orient + body_pose   (N, 3) | (N, 1, 3) | (N, 1, 3, 3) | (N, 3, 3)  and  (N, 69) | (N, 23, 3) | (N, 23, 3, 3)
    tracks                      a dict of people, track id -> a dict in one of the layouts above, of any
                                lengths; VIBE's output pickle is one (track id -> {'pose' (N, 72), 'betas',
                                'frame_ids', 'pred_cam', 'verts', 'joints3d', ...}). Values that are not
                                dicts are not people and are left as they are.

Files: ``.npz`` (one person) and ``.pkl`` / ``.pickle`` (any layout), read with a restricted
unpickler that builds plain containers and numpy arrays only (no code from the file runs),
including joblib's uncompressed pickles (``joblib.dump``, which VIBE uses). The output
has the input's keys, shapes and dtypes, only the pose arrays replaced; it is written
atomically, ``.npz`` compressed when the input was, pickles as plain pickles (which
``pickle.load`` and ``joblib.load`` both read). Other arrays derived from the poses (VIBE's
``verts``, ``joints3d``) are left as the per-frame model computed them.

Each person is smoothed separately (a ``mocap_hmr.smoothers.Smoother``); a person with no
finite frame is refused, naming the track. With ``frame_ids``
(increasing frame numbers, VIBE's), the frames between two detections are inserted as
unobserved frames, so windows span real time and the gaps are filled in; only the
detected frames are written back.

Acceleration (the report): the mean over frames and joints of ``|R[t-1] - 2 R[t] + R[t+1]|``
(Frobenius norm of the second difference of the joint rotation matrices, per frame^2 at the
file's frame rate), over the frames whose neighbours are both observed in the input, the
same frames before and after. It needs no body model; it is not the usual joint-position
acceleration error (mm/frame^2).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from mocap_hmr.atomic import atomic_write
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_axis_angle
from mocap_hmr.safe_pickle import ARRAY_GLOBALS, canonical_global
from mocap_hmr.smoothers import Smoother

NPZ_SUFFIXES = (".npz",)
PICKLE_SUFFIXES = (".pkl", ".pickle")
# Keys of one person's poses and the joints each holds.
POSE_LAYOUTS = {"pose": (("pose", 24),), "global_orient+body_pose": (("global_orient", 1), ("body_pose", 23))}
LAYOUTS_UNDERSTOOD = (
    "'pose' (N, 72), (N, 24, 3) or (N, 24, 3, 3); "
    "'global_orient' (N, 3), (N, 1, 3), (N, 1, 3, 3) or (N, 3, 3) with 'body_pose' (N, 69), (N, 23, 3) or "
    "(N, 23, 3, 3); or (.pkl) a dict of tracks, track id -> a dict in one of these layouts "
    "(VIBE's output: track id -> {'pose' (N, 72), 'betas', 'frame_ids', ...})"
)


class PredictionsFileError(MocapHMRError, ValueError):
    """A predictions file is unreadable or in none of the layouts understood."""


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
        return "\n".join(lines)


def smooth_file(src: str | os.PathLike, dst: str | os.PathLike, smoother: Smoother) -> SmoothingReport:
    """Smooth every person of ``src`` with ``smoother`` and write ``dst`` in the same layout
    and file type (see the module docstring). Returns the per-track report."""
    src, dst = Path(src), Path(dst)
    kind = _file_kind(src)
    if _file_kind(dst) != kind:
        raise PredictionsFileError(f"{dst}: the output must be the same kind of file as {src} ({kind})")
    data = read_predictions(src)
    people, layout = find_people(data, src)
    report = SmoothingReport(src=src, dst=dst, layout=layout, method=smoother.label, mode=smoother.mode)
    for track, person in people.items():
        report.tracks.append(_smooth_person(person, track, smoother, src))
    write_predictions(dst, data, compressed=kind == "npz" and _is_compressed_npz(src))
    return report


def read_predictions(path: str | os.PathLike) -> dict:
    """The file's content: a dict of arrays (.npz) or whatever plain object the pickle holds."""
    path = Path(path)
    kind = _file_kind(path)
    if not path.is_file():
        raise PredictionsFileError(f"{path}: no such predictions file")
    try:
        if kind == "npz":
            with np.load(path, allow_pickle=False) as npz:
                return {key: npz[key] for key in npz.files}
        with open(path, "rb") as fh:
            return _PredictionsUnpickler(fh, path).load()
    except PredictionsFileError:
        raise
    except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, ValueError, OSError, AttributeError, IndexError,
            TypeError, KeyError) as exc:
        raise PredictionsFileError(f"{path}: cannot be read as a {kind} file ({type(exc).__name__}: {exc}); it may "
                                   "be truncated or corrupt") from exc


def write_predictions(path: str | os.PathLike, data, compressed: bool = False) -> None:
    """Atomically write ``data`` as .npz (a dict of arrays) or as a plain pickle."""
    path = Path(path)
    if _file_kind(path) == "npz":
        save = np.savez_compressed if compressed else np.savez
        atomic_write(path, lambda fh: save(fh, **data))
    else:
        atomic_write(path, lambda fh: pickle.dump(data, fh, protocol=4))


def find_people(data, source: Path) -> tuple[dict[str, dict], str]:
    """The people in a file's content: {track name: the dict holding its arrays} ("" for a
    file of one person) and the layout's name."""
    if isinstance(data, Mapping):
        layout = _pose_layout(data)
        if layout:
            return {"": data}, layout
        people = {str(k): v for k, v in data.items() if isinstance(v, Mapping)}
        unknown = [k for k, v in people.items() if not _pose_layout(v)]
        if people and not unknown:
            return people, "tracks"
        if unknown:
            keys = ", ".join(map(str, list(people[unknown[0]])[:8]))
            raise PredictionsFileError(f"{source}: track {unknown[0]} is in none of the layouts understood (its keys: "
                                       f"{keys}); understood: {LAYOUTS_UNDERSTOOD}")
    found = f"keys {', '.join(map(str, list(data)[:8]))}" if isinstance(data, Mapping) else f"a {type(data).__name__}"
    raise PredictionsFileError(f"{source}: holds {found}, in none of the layouts understood: {LAYOUTS_UNDERSTOOD}")


def acceleration(rotmat: torch.Tensor, observed: torch.Tensor) -> float | None:
    """rotmat (N, 24, 3, 3), observed (N,) bool -> mean over frames t with t-1, t, t+1 observed
    and over joints of the Frobenius norm of R[t-1] - 2 R[t] + R[t+1]; None without such t."""
    valid = observed[:-2] & observed[1:-1] & observed[2:]
    if not bool(valid.any()):
        return None
    second = rotmat[:-2] - 2 * rotmat[1:-1] + rotmat[2:]
    return float(second.flatten(2).norm(dim=-1)[valid].mean())


def _person_rotations(person: Mapping, track: str, source: Path):
    """A person's pose arrays, their (key, joints) fields, and all frames as (N, 24, 3, 3)."""
    fields = POSE_LAYOUTS[_pose_layout(person)]
    arrays = [_pose_array(person[key], joints, key, track, source) for key, joints in fields]
    n = arrays[0].shape[0]
    if any(a.shape[0] != n for a in arrays):
        raise PredictionsFileError(f"{source}: {_where(track)}{' and '.join(k for k, _ in fields)} have different "
                                   f"numbers of frames ({', '.join(str(a.shape[0]) for a in arrays)})")
    rotmat = torch.cat([_as_rotmat(a, joints) for a, (_, joints) in zip(arrays, fields, strict=True)], 1)
    return arrays, fields, rotmat


def first_person_rotations(path: str | os.PathLike) -> torch.Tensor:
    """(N, 24, 3, 3) rotations of the first person of a predictions file."""
    path = Path(path)
    people, _ = find_people(read_predictions(path), path)
    track, person = next(iter(people.items()))
    return _person_rotations(person, track, path)[2]


def _smooth_person(person: dict, track: str, smoother: Smoother, source: Path) -> TrackReport:
    arrays, fields, rotmat = _person_rotations(person, track, source)
    n = rotmat.shape[0]
    timeline = _timeline(person, n, track, source)
    full = torch.full((int(timeline[-1]) + 1 if n else 0, 24, 3, 3), float("nan"))  # frames between detections: NaN
    full[timeline] = rotmat
    seen = torch.isfinite(full.flatten(1)).all(1)
    if n and not bool(seen.any()):
        raise PredictionsFileError(f"{source}: {_where(track) or 'the person: '}no frame has finite poses "
                                   f"({n} frames, all NaN or Inf); there is nothing to smooth")
    refined = smoother(full)
    first = 0
    for (key, joints), array in zip(fields, arrays, strict=True):
        person[key] = _like(refined[timeline, first:first + joints], array)
        first += joints
    return TrackReport(track=track, frames=n, filled=int((~seen).sum()), accel_before=acceleration(full, seen),
                       accel_after=acceleration(refined, seen))


def _timeline(person: Mapping, n: int, track: str, source: Path) -> torch.Tensor:
    """(N,) each frame's place in time: ``frame_ids`` minus the first, or 0 ... N-1 without them."""
    if "frame_ids" not in person:
        return torch.arange(n)
    ids = np.asarray(person["frame_ids"])
    if ids.shape != (n,) or not np.issubdtype(ids.dtype, np.integer) or (n > 1 and np.any(np.diff(ids) <= 0)):
        raise PredictionsFileError(f"{source}: {_where(track)}frame_ids must be {n} increasing integers, one per "
                                   f"frame (got {ids.dtype} {ids.shape})")
    return torch.from_numpy((ids - ids[0]).astype(np.int64)) if n else torch.arange(0)


def _pose_layout(person: Mapping) -> str | None:
    for name, fields in POSE_LAYOUTS.items():
        if all(key in person for key, _ in fields):
            return name
    return None


def _pose_array(value, joints: int, key: str, track: str, source: Path) -> np.ndarray:
    """The array under ``key`` checked against its accepted shapes for ``joints`` joints."""
    array = np.asarray(value)
    n = array.shape[0] if array.ndim else 0
    accepted = [(n, 3 * joints), (n, joints, 3), (n, joints, 3, 3)] + ([(n, 3, 3)] if joints == 1 else [])
    if array.shape not in accepted or not np.issubdtype(array.dtype, np.floating):
        shapes = " or ".join(str(s).replace(f"({n},", "(N,") for s in accepted)
        raise PredictionsFileError(f"{source}: {_where(track)}'{key}' is {array.dtype} of shape {array.shape}; "
                                   f"expected floats of shape {shapes}")
    return array


def _as_rotmat(array: np.ndarray, joints: int) -> torch.Tensor:
    """(N, joints * 3) | (N, joints, 3) axis-angle or (N, [joints,] 3, 3) -> (N, joints, 3, 3) float32
    matrices; a frame with NaN or Inf stays non-finite."""
    values = torch.from_numpy(np.array(array, dtype=np.float32))
    n = values.shape[0]
    if array.shape[-2:] == (3, 3):
        return values.reshape(n, joints, 3, 3)
    return axis_angle_to_matrix(values.reshape(n, joints, 3))


def _like(rotmat: torch.Tensor, like: np.ndarray) -> np.ndarray:
    """(N, J, 3, 3) rotations in the representation, shape and dtype of ``like``."""
    values = rotmat if like.shape[-2:] == (3, 3) else matrix_to_axis_angle(rotmat)
    return values.numpy().reshape(like.shape).astype(like.dtype)


def _where(track: str) -> str:
    return f"track {track}: " if track else ""


def _file_kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in NPZ_SUFFIXES:
        return "npz"
    if suffix in PICKLE_SUFFIXES:
        return "pickle"
    raise PredictionsFileError(f"{path}: predictions files are {', '.join(NPZ_SUFFIXES + PICKLE_SUFFIXES)}")


def _is_compressed_npz(path: Path) -> bool:
    with zipfile.ZipFile(path) as archive:
        return any(info.compress_type != zipfile.ZIP_STORED for info in archive.infolist())


class _JoblibArray:
    """Stands in for joblib's ``NumpyArrayWrapper``: its state says the array's dtype, shape and
    order; the array's bytes follow it in the file, after a padding byte count and padding
    (joblib >= 1.2) when ``numpy_array_alignment_bytes`` is set."""

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def read(self, fh, source: Path) -> np.ndarray:
        dtype, shape = np.dtype(self.dtype), tuple(int(s) for s in self.shape)
        if dtype.hasobject:
            raise PredictionsFileError(f"{source}: holds an array of Python objects; only numeric arrays are read")
        if self.__dict__.get("numpy_array_alignment_bytes") is not None:
            fh.read(fh.read(1)[0])
        count = int(np.prod(shape, dtype=np.int64))
        data = fh.read(count * dtype.itemsize)
        if len(data) != count * dtype.itemsize:
            raise PredictionsFileError(f"{source}: cut short inside an array of shape {shape}")
        array = np.frombuffer(data, dtype=dtype, count=count).copy()
        return array.reshape(shape[::-1]).T if self.order == "F" else array.reshape(shape)


class _PredictionsUnpickler(pickle._Unpickler):
    """Python's own unpickler (joblib's base too), restricted to ``safe_pickle.ARRAY_GLOBALS``, that also
    reads joblib's arrays, whose bytes sit in the file right after their wrapper."""

    def __init__(self, fh, source: Path):
        super().__init__(fh)
        self.fh, self.source = fh, source

    def find_class(self, module: str, name: str):
        if (module, name) == ("joblib.numpy_pickle", "NumpyArrayWrapper"):
            return _JoblibArray
        module, name = canonical_global(module, name)
        if (module, name) in ARRAY_GLOBALS:
            return super().find_class(module, name)
        raise PredictionsFileError(f"{self.source}: the pickle refers to {module}.{name}; a predictions file holds "
                                   "only dicts, lists and numpy arrays, so it is not loaded")

    def load_build(self) -> None:
        super().load_build()
        if isinstance(self.stack[-1], _JoblibArray):
            self.stack[-1] = self.stack[-1].read(self.fh, self.source)

    dispatch = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = load_build
