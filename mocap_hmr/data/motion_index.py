"""The motion corpus index: every frame of a folder of AMASS files in contiguous arrays.

One ``.npz`` (uncompressed, so it loads in seconds and goes to the GPU in one copy):

    poses (N, 24, 3) float32   SMPL axis-angle, Y up, at the index's fps
    trans (N, 3) float32
    offsets (S + 1,) int64     sequence s is frames offsets[s]:offsets[s + 1]
    betas (S, 10) float32, gender (S,) str, source_fps (S,) float64, names (S,) str
    file_size, file_mtime_ns (S,) int64   to re-read only files that changed
    format, version, fps        what wrote it

Re-indexing a grown folder reads only new or changed files. An index of another format
version, or one cut short while being written, is detected and never half-loaded.
"""

from __future__ import annotations

import fnmatch
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from mocap_hmr.atomic import atomic_write
from mocap_hmr.data.amass import MotionFileError, is_motion, is_motion_candidate, load_amass_npz, read_npz
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.progress import progress

INDEX_FORMAT = "mocap-hmr-motion-index"
INDEX_VERSION = 1
_SEQUENCE_KEYS = ("betas", "gender", "source_fps", "names", "file_size", "file_mtime_ns")
_ALL_KEYS = ("format", "version", "fps", "poses", "trans", "offsets") + _SEQUENCE_KEYS


class IndexFileError(MocapHMRError, ValueError):
    """A motion index file is missing, of another version, or incomplete."""


@dataclass
class MotionIndex:
    """A motion corpus in memory (tensors on one device). Shapes as in the module docstring."""

    poses: torch.Tensor
    trans: torch.Tensor
    offsets: torch.Tensor
    betas: torch.Tensor
    gender: list[str]
    source_fps: torch.Tensor
    names: list[str]
    fps: float
    file_size: np.ndarray = field(repr=False, default=None)
    file_mtime_ns: np.ndarray = field(repr=False, default=None)

    @property
    def num_frames(self) -> int:
        return int(self.poses.shape[0])

    @property
    def num_sequences(self) -> int:
        return len(self.names)

    @property
    def lengths(self) -> torch.Tensor:
        """(S,) frames per sequence."""
        return self.offsets[1:] - self.offsets[:-1]

    def frame_sequence(self) -> torch.Tensor:
        """(N,) the sequence each frame belongs to."""
        return torch.repeat_interleave(torch.arange(self.num_sequences, device=self.offsets.device), self.lengths)

    def select(self, sequences: list[int] | torch.Tensor,
               spans: list[tuple[int, int]] | None = None) -> MotionIndex:
        """The index of the given sequences only (ids into ``names``, in the order given); with
        ``spans``, of each one's frames ``start:stop`` only (one (start, stop) per id, within it)."""
        ids = torch.as_tensor(sequences, dtype=torch.long).cpu()
        whole = self.lengths.cpu()[ids].tolist()
        spans = [(0, n) for n in whole] if spans is None else [(int(a), int(b)) for a, b in spans]
        if len(spans) != len(whole) or any(not 0 <= a < b <= n for (a, b), n in zip(spans, whole, strict=True)):
            raise MocapHMRError(f"MotionIndex.select: spans must be one non-empty (start, stop) within each "
                                f"selected sequence, got {spans} for lengths {whole}")
        frames = [torch.arange(int(self.offsets[s]) + a, int(self.offsets[s]) + b)
                  for s, (a, b) in zip(ids.tolist(), spans, strict=True)]
        frames = torch.cat(frames) if frames else torch.zeros(0, dtype=torch.long)
        lengths = torch.tensor([b - a for a, b in spans], dtype=torch.long)
        offsets = torch.cat([torch.zeros(1, dtype=torch.long), lengths.cumsum(0)]).to(self.offsets)
        on = self.poses.device
        def pick(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else array[ids.numpy()]

        return MotionIndex(poses=self.poses[frames.to(on)], trans=self.trans[frames.to(on)], offsets=offsets,
                           betas=self.betas[ids.to(on)], gender=[self.gender[s] for s in ids.tolist()],
                           source_fps=self.source_fps[ids.to(self.source_fps.device)],
                           names=[self.names[s] for s in ids.tolist()], fps=self.fps,
                           file_size=pick(self.file_size), file_mtime_ns=pick(self.file_mtime_ns))

    def without(self, patterns: list[str] | tuple[str, ...]) -> MotionIndex:
        """The index without the sequences whose name matches any of the shell-style
        ``patterns`` (``fnmatch``, e.g. ``*/jump_*`` or ``CMU/*``)."""
        keep = [s for s, name in enumerate(self.names) if not any(fnmatch.fnmatchcase(name, p) for p in patterns)]
        return self.select(keep)

    def to(self, device: str | torch.device) -> MotionIndex:
        move = {k: getattr(self, k).to(device) for k in ("poses", "trans", "offsets", "betas", "source_fps")}
        return MotionIndex(**move, gender=self.gender, names=self.names, fps=self.fps,
                           file_size=self.file_size, file_mtime_ns=self.file_mtime_ns)


@dataclass
class IndexReport:
    """What an indexing run did (counts of files)."""

    sequences: int = 0
    frames: int = 0
    read: int = 0
    reused: int = 0
    removed: int = 0
    not_motion: int = 0
    bad: list[str] = field(default_factory=list)
    repeated_folders: list[str] = field(default_factory=list)  # links to folders walked already (loops ...)


def load_index(path: str | os.PathLike, device: str | torch.device = "cpu") -> MotionIndex:
    """Load an index written by ``build_index``; raises ``IndexFileError`` when it is not one."""
    path = Path(path)
    if not path.is_file():
        raise IndexFileError(f"{path}: no such motion index; build one with: mocap-hmr index-amass ROOT --out {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in _ALL_KEYS if k not in npz.files]
            if "format" not in npz.files or str(npz["format"]) != INDEX_FORMAT:
                raise IndexFileError(f"{path}: not a mocap-hmr motion index (no '{INDEX_FORMAT}' format tag)")
            version = int(npz["version"])
            if version != INDEX_VERSION:
                raise IndexFileError(
                    f"{path}: written by another version of mocap-hmr (index version {version}, this one reads "
                    f"{INDEX_VERSION}); rebuild it with: mocap-hmr index-amass ROOT --out {path}"
                )
            if missing:
                raise IndexFileError(f"{path}: incomplete index, missing {', '.join(missing)}")
            arrays = {k: npz[k] for k in _ALL_KEYS}
    except IndexFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise IndexFileError(
            f"{path}: cut short or corrupt ({type(exc).__name__}: {exc}); rebuild it with mocap-hmr index-amass"
        ) from exc
    offsets = arrays["offsets"]
    n_seq = len(arrays["names"])
    if len(offsets) != n_seq + 1 or offsets[-1] != len(arrays["poses"]) or len(arrays["trans"]) != len(arrays["poses"]):
        raise IndexFileError(f"{path}: inconsistent index (offsets, poses and trans disagree); rebuild it")
    return MotionIndex(
        poses=torch.from_numpy(arrays["poses"]).to(device),
        trans=torch.from_numpy(arrays["trans"]).to(device),
        offsets=torch.from_numpy(offsets).to(device),
        betas=torch.from_numpy(arrays["betas"]).to(device),
        gender=[str(g) for g in arrays["gender"]],
        source_fps=torch.from_numpy(arrays["source_fps"]).to(device),
        names=[str(n) for n in arrays["names"]],
        fps=float(arrays["fps"]),
        file_size=arrays["file_size"],
        file_mtime_ns=arrays["file_mtime_ns"],
    )


def _scan(root: Path) -> tuple[list[Path], int, list[str]]:
    """Motion-file candidates under ``root`` (sorted), the number of other files, and the
    folders left out because they lead to a folder walked already (a link loop, or a second
    link to one folder), each as ``"path: ..."``. Folder links are followed."""
    candidates, others, repeated = [], 0, []
    seen = {_identity(root): root}
    for folder, dirs, files in os.walk(root, followlinks=True):
        kept = []
        for name in sorted(dirs):
            path = Path(folder) / name
            first = seen.setdefault(_identity(path), path)
            if first == path:
                kept.append(name)
            else:
                repeated.append(f"{path}: leads to {path.resolve()}, walked already as {first}")
        dirs[:] = kept
        for name in files:
            path = Path(folder) / name
            if path.is_file():
                if is_motion_candidate(path):
                    candidates.append(path)
                else:
                    others += 1
    return sorted(candidates), others, repeated


def _identity(folder: Path) -> tuple[int, int]:
    stat = folder.stat()
    return stat.st_dev, stat.st_ino


def _previous(out: Path, fps: float, log: Callable[[str], None]) -> dict[str, tuple]:
    """Sequences of an existing index at ``out`` keyed by name, when it can be reused."""
    if not out.exists():
        return {}
    try:
        old = load_index(out)
    except IndexFileError as exc:
        log(f"existing index not reused, indexing everything again: {exc}")
        return {}
    if old.fps != fps:
        log(f"existing index is at {old.fps} fps, not {fps}: indexing everything again")
        return {}
    previous = {}
    offsets = old.offsets.numpy()
    for s, name in enumerate(old.names):
        frames = slice(offsets[s], offsets[s + 1])
        previous[name] = (int(old.file_size[s]), int(old.file_mtime_ns[s]), {
            "poses": old.poses[frames].numpy(), "trans": old.trans[frames].numpy(),
            "betas": old.betas[s].numpy(), "gender": old.gender[s], "source_fps": float(old.source_fps[s]),
        })
    return previous


def build_index(root: str | os.PathLike, out: str | os.PathLike, fps: float = 30.0, skip_bad: bool = False,
                log: Callable[[str], None] = print) -> IndexReport:
    """Index every AMASS motion file under ``root`` at ``fps`` into ``out`` (see module docstring).

    Shape files (``shape.npz``, ``*_stagei.npz``), .npz files without motion and non-.npz
    files (videos ...) are skipped and counted. Links to folders are followed; one that leads
    to a folder walked already (a loop, or the same folder twice) is skipped and reported. A
    malformed motion file raises its ``MotionFileError``, or with ``skip_bad`` is reported and
    skipped.
    """
    root, out = Path(root), Path(out)
    if not root.is_dir():
        raise MotionFileError(f"{root}: not a folder of motion files")
    candidates, report_not_motion, repeated = _scan(root)
    report = IndexReport(not_motion=report_not_motion, repeated_folders=repeated)
    previous = _previous(out, fps, log)
    sequences = []  # (name, size, mtime_ns, motion dict)
    for path in progress(candidates, len(candidates), f"indexing {root}", unit="files"):
        name = path.relative_to(root).as_posix()
        stat = path.stat()
        old = previous.pop(name, None)
        if old is not None and old[:2] == (stat.st_size, stat.st_mtime_ns):
            sequences.append((name, stat.st_size, stat.st_mtime_ns, old[2]))
            report.reused += 1
            continue
        try:
            if not is_motion(read_npz(path)):
                report.not_motion += 1
                continue
            motion = load_amass_npz(path, fps=fps)
        except MotionFileError as exc:
            if not skip_bad:
                raise MotionFileError(f"{exc} (use --skip-bad to report and skip such files)") from exc
            report.bad.append(str(exc))
            continue
        sequences.append((name, stat.st_size, stat.st_mtime_ns, motion))
        report.read += 1
    report.removed = len(previous)
    if not sequences:
        raise MotionFileError(
            f"{root}: no motion file found ({report.not_motion} other files skipped, {len(report.bad)} bad); "
            "expected AMASS .npz files with poses, trans, betas, gender and mocap_framerate"
        )
    _write(out, fps, sequences)
    report.sequences = len(sequences)
    report.frames = sum(len(m["poses"]) for _, _, _, m in sequences)
    return report


def _write(out: Path, fps: float, sequences: list[tuple]) -> None:
    lengths = [len(m["poses"]) for _, _, _, m in sequences]
    arrays = {
        "format": np.array(INDEX_FORMAT),
        "version": np.array(INDEX_VERSION),
        "fps": np.array(float(fps)),
        "poses": np.concatenate([m["poses"] for _, _, _, m in sequences]).astype(np.float32),
        "trans": np.concatenate([m["trans"] for _, _, _, m in sequences]).astype(np.float32),
        "offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        "betas": np.stack([m["betas"] for _, _, _, m in sequences]).astype(np.float32),
        "gender": np.array([m["gender"] for _, _, _, m in sequences]),
        "source_fps": np.array([m["source_fps"] for _, _, _, m in sequences], dtype=np.float64),
        "names": np.array([name for name, _, _, _ in sequences]),
        "file_size": np.array([size for _, size, _, _ in sequences], dtype=np.int64),
        "file_mtime_ns": np.array([mtime for _, _, mtime, _ in sequences], dtype=np.int64),
    }
    atomic_write(out, lambda fh: np.savez(fh, **arrays))
