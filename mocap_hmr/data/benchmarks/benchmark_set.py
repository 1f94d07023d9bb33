"""``BenchmarkSet``: one evaluation benchmark as numpy arrays, whatever file it came from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from mocap_hmr.data.spin_dataset import DatasetError

# Joint layouts of ``BenchmarkSet.joints3d`` and their joint counts. "h36m17": the 17 rows of
# SPIN's J_regressor_h36m.npy, in that order (the order SPIN's MPI-INF-3DHP preprocessing
# writes its ground truth in, so that SPIN's H36M_TO_J17 picks the same joints from both).
JOINT_LAYOUTS = {"h36m17": 17}
GENDERS = ("m", "f", "n")


@dataclass
class BenchmarkSet:
    """N samples of one benchmark. Ground truth is either SMPL parameters (``pose``, ``betas``,
    ``gender``) or 3D joints (``joints3d`` with ``joint_layout``), never both.

    image_paths (N,) str, relative to the benchmark's image folder; center (N, 2) box centre in
    pixels; scale (N,) box side / 200 px (SPIN's convention); sequence (N,) str, one id per
    person track; frame (N,) int, the frame's index in its video; fps: the videos' frame rate,
    None where the benchmark has no single confirmed rate. pose (N, 72) axis-angle with the
    global orientation in the camera frame; betas (N, 10); gender (N,) 'm' | 'f' | 'n';
    joints3d (N, J, 3) metres, camera axes, root-relative (joint 0 at the origin).
    ``source`` is the file or folder read, named in errors.
    """

    name: str
    image_paths: np.ndarray
    center: np.ndarray
    scale: np.ndarray
    sequence: np.ndarray
    frame: np.ndarray
    fps: float | None
    source: str
    pose: np.ndarray | None = None
    betas: np.ndarray | None = None
    gender: np.ndarray | None = None
    joints3d: np.ndarray | None = None
    joint_layout: str | None = None

    def __post_init__(self):
        n = len(self.image_paths)
        if n == 0:
            raise DatasetError(f"{self.source}: holds no sample")
        self._expect("center", (n, 2))
        for key in ("image_paths", "scale", "sequence", "frame"):
            self._expect(key, (n,))
        if (self.pose is None) == (self.joints3d is None):
            raise DatasetError(f"{self.source}: a benchmark has either SMPL ground truth (pose, betas, gender) or "
                               "3D joints (joints3d), exactly one of them")
        if self.pose is not None:
            self._expect("pose", (n, 72))
            self._expect("betas", (n, 10))
            self._expect("gender", (n,))
            unknown = sorted(set(self.gender.tolist()) - set(GENDERS))
            if unknown:
                raise DatasetError(f"{self.source}: gender values {unknown}; expected {', '.join(GENDERS)}")
        else:
            if self.joint_layout not in JOINT_LAYOUTS:
                raise DatasetError(f"{self.source}: joint layout {self.joint_layout!r}; "
                                   f"known: {', '.join(JOINT_LAYOUTS)}")
            self._expect("joints3d", (n, JOINT_LAYOUTS[self.joint_layout], 3))
        order, _ = self._order()
        seq, frame = self.sequence[order], self.frame[order]
        repeated = np.flatnonzero((seq[1:] == seq[:-1]) & (frame[1:] == frame[:-1]))
        if len(repeated):
            i = order[repeated[0]]
            raise DatasetError(f"{self.source}: sequence {self.sequence[i]} has frame {self.frame[i]} more than once; "
                               "each person track holds a frame once")

    def _expect(self, key: str, shape: tuple[int, ...]) -> None:
        value = getattr(self, key)
        if value is None or np.shape(value) != shape:
            got = "nothing" if value is None else f"shape {np.shape(value)}"
            raise DatasetError(f"{self.source}: {key} has {got}; expected {shape}")

    def __len__(self) -> int:
        return len(self.image_paths)

    def _order(self) -> tuple[np.ndarray, np.ndarray]:
        """Sample order grouped by sequence (in order of first appearance), by frame within
        one, and the start of each group in it."""
        _, first, inverse = np.unique(self.sequence, return_index=True, return_inverse=True)
        group = np.argsort(np.argsort(first))[inverse.reshape(-1)]
        order = np.lexsort((self.frame, group))
        starts = np.flatnonzero(np.diff(group[order])) + 1
        return order, starts

    def sequences(self) -> Iterator[np.ndarray]:
        """Sample indices (T,) of each sequence, sorted by frame; sequences in order of first appearance."""
        order, starts = self._order()
        yield from np.split(order, starts)
