"""MuPoTS-3D (Mehta et al., 3DV 2018) from ``mupots3d_test.npz``, this project's conversion of
the official ``MultiPersonTestSet/TS<k>/annot.mat`` files (MATLAB files that need scipy;
``docs/datasets.md`` has the script).

The ``.npz`` holds, per valid (``isValidFrame``) person and frame: ``imgname``
``TS<k>/img_<frame:06d>.jpg`` (under ``MultiPersonTestSet``), ``center`` (N, 2) and ``scale``
(N,) (SPIN's box around ``annot2``), ``joints3d`` (N, 17, 3) ``univ_annot3`` in metres in the
dataset's own joint order (MPI-INF-3DHP's test order), and ``person`` (N,) the person's
column in ``annot.mat``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mocap_hmr.data.benchmarks.annotations import parse_image_names
from mocap_hmr.data.benchmarks.benchmark_set import BenchmarkSet
from mocap_hmr.data.benchmarks.readers import array_field, read_npz

# SPIN's joints17_idx for MPI-INF-3DHP's test set, which has MuPoTS-3D's joint order: the
# dataset joint of each h36m17 joint (pelvis is dataset joint 14).
TEST_TO_H36M17 = (14, 11, 12, 13, 8, 9, 10, 15, 1, 16, 0, 5, 6, 7, 2, 3, 4)
IMAGE_PATTERN = r"(?P<seq>TS\d+)/img_(?P<num>\d+)\.jpg$"
KEYS = ("imgname", "center", "scale", "joints3d", "person")
EXPECTED = ("mupots3d_test.npz made by the conversion in docs/datasets.md (imgname TS<k>/img_<frame>.jpg, "
            "center (N, 2), scale (N,), joints3d (N, 17, 3), person (N,))")


def load_mupots(path: str | Path) -> BenchmarkSet:
    """One track per sequence and person (``TS<k>_<person>``); no single confirmed frame rate."""
    path = Path(path)
    a = read_npz(path, KEYS, EXPECTED)
    joints = array_field(a["joints3d"], ("N", 17, 3), path, "joints3d")[:, TEST_TO_H36M17]
    person = array_field(a["person"], ("N",), path, "person").astype(np.int64)
    sequence, frame = parse_image_names(a["imgname"], IMAGE_PATTERN, path)
    return BenchmarkSet(
        name="mupots", image_paths=a["imgname"].astype(str), center=array_field(a["center"], ("N", 2), path, "center"),
        scale=array_field(a["scale"], ("N",), path, "scale"),
        sequence=np.array([f"{s}_{p}" for s, p in zip(sequence, person, strict=True)]), frame=frame, fps=None,
        source=str(path), joints3d=joints - joints[:, :1], joint_layout="h36m17")
