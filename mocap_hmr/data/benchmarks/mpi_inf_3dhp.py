"""MPI-INF-3DHP test set from SPIN's ``mpi_inf_3dhp_test.npz`` (``mpi_inf_3dhp_valid.npz`` in
SPIN's config): the valid frames of TS1..TS6 with all 17 joints in the image.

SPIN stores the 17 ground-truth joints (``univ_annot3``, metres, pelvis-centred) in the slots
``SPIN_SLOTS`` of its 24 ``S`` joints (N, 24, 4); SPIN's evaluation reads them back with
``J24_TO_J17``, which picks the same joints as ``H36M_TO_J17`` picks from the 17 rows of
``J_regressor_h36m.npy``. This loader gives those 17 joints in the regressor's row order.
"""

from __future__ import annotations

from pathlib import Path

from mocap_hmr.data.benchmarks.annotations import parse_image_names
from mocap_hmr.data.benchmarks.benchmark_set import BenchmarkSet
from mocap_hmr.data.benchmarks.readers import array_field, read_npz
from mocap_hmr.data.spin_dataset import DatasetError

# SPIN's joints_idx (datasets/preprocess/mpi_inf_3dhp.py): the S slot of each h36m17 joint.
SPIN_SLOTS = (14, 3, 4, 5, 2, 1, 0, 16, 12, 17, 18, 9, 10, 11, 8, 7, 6)
IMAGE_PATTERN = r"(?P<seq>TS\d+)/imageSequence/img_(?P<num>\d+)\.jpg$"
EXPECTED = ("SPIN's mpi_inf_3dhp_test.npz (imgname mpi_inf_3dhp_test_set/TS<k>/imageSequence/img_<n>.jpg, "
            "center (N, 2), scale (N,), S (N, 24, 4))")


def load_mpi_inf_3dhp(path: str | Path) -> BenchmarkSet:
    """Sequences TS1..TS6 (one person each), frame = image number - 1; no single frame rate."""
    path = Path(path)
    a = read_npz(path, ("imgname", "center", "scale", "S"), EXPECTED)
    s = array_field(a["S"], ("N", 24, 4), path, "S")
    missing = s[:, SPIN_SLOTS, 3] <= 0
    if missing.any():
        sample, slot = (int(i[0]) for i in missing.nonzero())
        raise DatasetError(f"{path}: S[{sample}] has confidence 0 in slot {SPIN_SLOTS[slot]}; SPIN's test file "
                           "holds all 17 evaluation joints of every sample")
    joints = s[:, SPIN_SLOTS, :3]
    sequence, number = parse_image_names(a["imgname"], IMAGE_PATTERN, path)
    return BenchmarkSet(
        name="mpi-inf-3dhp", image_paths=a["imgname"].astype(str),
        center=array_field(a["center"], ("N", 2), path, "center"), scale=array_field(a["scale"], ("N",), path, "scale"),
        sequence=sequence, frame=number - 1, fps=None, source=str(path), joints3d=joints - joints[:, :1],
        joint_layout="h36m17")
