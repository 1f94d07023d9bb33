"""Benchmark loaders on small files in each benchmark's real format (3DPW's Python 2 pickles,
SPIN's npz files, AIST++'s pickles and camera JSON, the MuPoTS-3D conversion): values, shapes,
ordering and person tracks, and one clear DatasetError naming file and field per bad file."""

import json
import pickle
import struct

import numpy as np
import pytest
import torch

from mocap_hmr.data.benchmarks import BenchmarkSet, DatasetError, load_benchmark
from mocap_hmr.data.benchmarks.mpi_inf_3dhp import SPIN_SLOTS
from mocap_hmr.data.benchmarks.mupots import TEST_TO_H36M17
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix

# SPIN's constants.py: what its evaluation picks from the 17 regressor rows / from the 24 S slots.
H36M_TO_J17 = [6, 5, 4, 1, 2, 3, 16, 15, 14, 11, 12, 13, 8, 10, 0, 7, 9]
J24_TO_J17 = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 18, 14, 16, 17]


def matrices(axis_angle):
    return axis_angle_to_matrix(torch.from_numpy(np.asarray(axis_angle, dtype=np.float64))).numpy()


class _Py2Pickler(pickle._Pickler):
    """Writes bytes and str as Python 2 ``str`` (BINSTRING), as 3DPW's pickles hold them: they
    load only with encoding='latin1'."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else obj
        self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str
    dispatch[str] = save_py2_str


def write_py2_pickle(path, obj):
    with open(path, "wb") as fh:
        _Py2Pickler(fh, protocol=2).dump(obj)
    # numpy 1.x module names, as in files written by Python 2
    path.write_bytes(path.read_bytes().replace(b"numpy._core", b"numpy.core"))


# ---------------------------------------------------------------- 3DPW sequence files

def box_keypoints(frames, x=(10.0, 50.0), y=(20.0, 100.0)):
    """(frames, 3, 18) poses2d: 17 keypoints inside the box x * y, one outside with confidence 0."""
    kp = np.zeros((frames, 3, 18))
    kp[:, 0, :17] = np.linspace(*x, 17)
    kp[:, 1, :17] = np.linspace(*y, 17)[::-1]
    kp[:, 2, :17] = 0.9
    kp[:, :2, 17] = 1000.0
    return kp


def pw3d_sequence(name, frames=6, people=2, seed=0):
    rng = np.random.default_rng(seed)
    cam_poses = np.tile(np.eye(4), (frames, 1, 1))
    cam_poses[:, :3, :3] = matrices(np.outer(0.2 * np.arange(frames), [0.0, 1.0, 0.3]))
    cam_poses[:, :3, 3] = rng.normal(size=(frames, 3))
    return {
        "sequence": name, "poses": [rng.normal(scale=0.4, size=(frames, 72)) for _ in range(people)],
        "betas": [rng.normal(size=10) for _ in range(people)], "trans": [rng.normal(size=(frames, 3))] * people,
        "genders": ["m", "f"][:people], "poses2d": [box_keypoints(frames) for _ in range(people)],
        "jointPositions": [rng.normal(size=(frames, 72))] * people, "cam_poses": cam_poses,
        "campose_valid": [np.ones(frames, dtype=bool) for _ in range(people)], "img_frame_ids": np.arange(frames),
        "cam_intrinsics": np.array([[1962.0, 0, 540], [0, 1969, 960], [0, 0, 1]]),
    }


def write_3dpw_folder(root, sequences):
    folder = root / "sequenceFiles" / "test"
    folder.mkdir(parents=True)
    for data in sequences:
        write_py2_pickle(folder / f"{data['sequence']}.pkl", data)
    return root


def test_3dpw_sequence_files_are_python2_pickles_read_as_latin1(tmp_path):
    root = write_3dpw_folder(tmp_path, [pw3d_sequence("courtyard_a")])
    with open(root / "sequenceFiles" / "test" / "courtyard_a.pkl", "rb") as fh, pytest.raises(UnicodeDecodeError):
        pickle.load(fh)  # what a plain Python 3 load of 3DPW's files does
    assert len(load_benchmark("3dpw", root)) == 12


def test_3dpw_sequence_files(tmp_path):
    first, second = pw3d_sequence("downtown_b", seed=1), pw3d_sequence("courtyard_a", frames=4, people=1, seed=2)
    first["campose_valid"][1][:2] = False  # person 1: frames 0, 1 have no valid camera pose
    first["poses2d"][0][3, 2] = 0.0  # person 0, frame 3: no keypoint, so no box
    logged = []
    bench = load_benchmark("3dpw", write_3dpw_folder(tmp_path, [first, second]), log=logged.append)

    assert bench.name == "3dpw" and bench.fps == 30.0 and bench.joints3d is None
    assert len(logged) == 1 and "downtown_b.pkl: person 0: 1 frame(s)" in logged[0] and "[3]" in logged[0]
    # files in name order, people in order, valid frames in order
    assert bench.sequence.tolist() == ["courtyard_a_0"] * 4 + ["downtown_b_0"] * 5 + ["downtown_b_1"] * 4
    assert bench.frame.tolist() == [0, 1, 2, 3, 0, 1, 2, 4, 5, 2, 3, 4, 5]
    assert bench.image_paths[5] == "imageFiles/downtown_b/image_00001.jpg"
    assert bench.gender.tolist() == ["m"] * 9 + ["f"] * 4
    np.testing.assert_allclose(bench.betas[-1], first["betas"][1])
    np.testing.assert_allclose(bench.center, np.tile([30.0, 60.0], (13, 1)))
    np.testing.assert_allclose(bench.scale, np.full(13, 1.2 * 80 / 200))
    # body pose as given; global orientation turned into the camera: R_cam @ R_world
    i, frame = 11, 4  # downtown_b person 1, frame 4
    np.testing.assert_allclose(bench.pose[i, 3:], first["poses"][1][frame, 3:])
    np.testing.assert_allclose(matrices(bench.pose[i, :3]),
                               first["cam_poses"][frame, :3, :3] @ matrices(first["poses"][1][frame, :3]), atol=1e-10)
    assert [s.tolist() for s in bench.sequences()] == [list(range(4)), list(range(4, 9)), list(range(9, 13))]


def test_spin_3dpw_npz_gives_the_tracks_of_the_sequence_files(tmp_path):
    """SPIN's npz has no person field: the tracks come from its block order and match the pickles'."""
    first, second = pw3d_sequence("downtown_b", seed=1), pw3d_sequence("courtyard_a", frames=4, people=1, seed=2)
    first["campose_valid"][0][4:] = False
    original = load_benchmark("3dpw", write_3dpw_folder(tmp_path, [first, second]))
    npz = tmp_path / "3dpw_test.npz"
    np.savez(npz, imgname=original.image_paths, center=original.center, scale=original.scale, pose=original.pose,
             shape=original.betas, gender=original.gender)
    spin = load_benchmark("3dpw", npz)
    assert spin.sequence.tolist() == original.sequence.tolist()
    assert spin.frame.tolist() == original.frame.tolist()
    np.testing.assert_array_equal(spin.pose, original.pose)
    assert spin.gender.tolist() == original.gender.tolist() and spin.source == str(npz)


@pytest.mark.parametrize("change, message", [
    (lambda d: d.pop("cam_poses"), "missing cam_poses"),
    (lambda d: d.pop("genders"), "missing genders / gender"),
    (lambda d: d["betas"].pop(), "betas holds 1 entries and poses 2 people"),
    (lambda d: d["poses"].__setitem__(1, np.zeros((6, 69))), "poses[1] has shape (6, 69); expected (6, 72)"),
    (lambda d: d.__setitem__("cam_poses", np.zeros((5, 4, 4))), "cam_poses has shape (5, 4, 4); expected (6, 4, 4)"),
    (lambda d: d["poses"][0].__setitem__((2, 5), np.nan), "poses[0] holds NaN or Inf"),
    (lambda d: d["genders"].__setitem__(1, "x"), "genders[1] is 'x'; expected m, f or n"),
])
def test_bad_3dpw_sequence_files(tmp_path, change, message):
    data = pw3d_sequence("courtyard_a")
    change(data)
    root = write_3dpw_folder(tmp_path, [data])
    with pytest.raises(DatasetError, match="courtyard_a.pkl: ") as info:
        load_benchmark("3dpw", root)
    assert message in str(info.value)


def test_3dpw_truncated_missing_and_unsafe_files(tmp_path):
    root = write_3dpw_folder(tmp_path, [pw3d_sequence("courtyard_a")])
    path = root / "sequenceFiles" / "test" / "courtyard_a.pkl"
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DatasetError, match=r"courtyard_a\.pkl: cannot be read as a pickle .*truncated"):
        load_benchmark("3dpw", root)
    path.write_bytes(b"cos\nsystem\n(S'echo hi'\ntR.")
    with pytest.raises(DatasetError, match=r"courtyard_a\.pkl: the pickle refers to os\.system"):
        load_benchmark("3dpw", root)
    with pytest.raises(DatasetError, match=r"sequenceFiles/val: no such folder; expected the 3DPW folder"):
        load_benchmark("3dpw", root, split="val")
    path.unlink()
    with pytest.raises(DatasetError, match=r"sequenceFiles/test: no \.pkl file"):
        load_benchmark("3dpw", root)


# ---------------------------------------------------------------- SPIN's npz files

def spin_3dpw_arrays(n=7):
    frames = [0, 1, 2, 3, 1, 2, 0]  # A person 0, A person 1, B person 0
    seqs = ["A"] * 6 + ["B"]
    return {"imgname": np.array([f"imageFiles/{s}/image_{f:05d}.jpg" for s, f in zip(seqs, frames, strict=True)]),
            "center": np.full((n, 2), 100.0), "scale": np.full(n, 0.8), "pose": np.zeros((n, 72)),
            "shape": np.zeros((n, 10)), "gender": np.array(["m"] * 4 + ["f", "f", "m"])}


def test_spin_3dpw_npz(tmp_path):
    np.savez(tmp_path / "3dpw_test.npz", **spin_3dpw_arrays())
    bench = load_benchmark("3dpw", tmp_path / "3dpw_test.npz")
    assert bench.sequence.tolist() == ["A_0"] * 4 + ["A_1"] * 2 + ["B_0"]
    assert bench.frame.tolist() == [0, 1, 2, 3, 1, 2, 0]
    assert bench.pose.shape == (7, 72) and bench.betas.shape == (7, 10) and bench.center.shape == (7, 2)


def mpi_arrays():
    rng = np.random.default_rng(0)
    names = [f"mpi_inf_3dhp_test_set/TS{ts}/imageSequence/img_{k:06d}.jpg" for ts, k in
             [(1, 5), (1, 1), (2, 3), (1, 3)]]
    s = np.zeros((4, 24, 4))
    s[:, SPIN_SLOTS, :3] = rng.normal(size=(4, 17, 3))
    s[:, SPIN_SLOTS, 3] = 1.0
    s[:, 14, :3] = 0.0  # SPIN stores pelvis-centred joints
    return {"imgname": np.array(names), "center": np.full((4, 2), 1024.0), "scale": np.full(4, 4.0),
            "part": np.zeros((4, 24, 3)), "S": s}


def test_mpi_inf_3dhp_npz_joints_in_regressor_order(tmp_path):
    arrays = mpi_arrays()
    np.savez(tmp_path / "mpi_inf_3dhp_test.npz", **arrays)
    bench = load_benchmark("mpi-inf-3dhp", tmp_path / "mpi_inf_3dhp_test.npz")
    assert bench.joint_layout == "h36m17" and bench.joints3d.shape == (4, 17, 3) and bench.pose is None
    assert bench.fps is None
    # SPIN's evaluation: ground truth S[J24_TO_J17] against the regressor rows [H36M_TO_J17]
    np.testing.assert_array_equal(bench.joints3d[:, H36M_TO_J17], arrays["S"][:, J24_TO_J17, :3])
    assert bench.sequence.tolist() == ["TS1", "TS1", "TS2", "TS1"] and bench.frame.tolist() == [4, 0, 2, 2]
    assert [s.tolist() for s in bench.sequences()] == [[1, 3, 0], [2]]


def mupots_arrays():
    rng = np.random.default_rng(1)
    names = ["TS1/img_000000.jpg", "TS1/img_000000.jpg", "TS1/img_000001.jpg", "TS3/img_000004.jpg"]
    return {"imgname": np.array(names), "center": np.full((4, 2), 900.0), "scale": np.full(4, 3.0),
            "joints3d": rng.normal(size=(4, 17, 3)), "person": np.array([0, 1, 0, 0])}


def test_mupots_npz(tmp_path):
    arrays = mupots_arrays()
    np.savez(tmp_path / "mupots3d_test.npz", **arrays)
    bench = load_benchmark("mupots", tmp_path / "mupots3d_test.npz")
    raw = arrays["joints3d"]
    np.testing.assert_allclose(bench.joints3d, raw[:, TEST_TO_H36M17] - raw[:, 14:15])
    assert np.allclose(bench.joints3d[:, 0], 0) and bench.joint_layout == "h36m17"
    assert bench.sequence.tolist() == ["TS1_0", "TS1_1", "TS1_0", "TS3_0"] and bench.frame.tolist() == [0, 0, 1, 4]
    assert [s.tolist() for s in bench.sequences()] == [[0, 2], [1], [3]]


NPZ_CASES = {"3dpw": spin_3dpw_arrays, "mpi-inf-3dhp": mpi_arrays, "mupots": mupots_arrays}


@pytest.mark.parametrize("name, change, message", [
    ("3dpw", lambda a: a.pop("pose"), "missing pose; expected SPIN's 3dpw_test.npz"),
    ("mpi-inf-3dhp", lambda a: a.pop("S"), "missing S; expected SPIN's mpi_inf_3dhp_test.npz"),
    ("mupots", lambda a: a.pop("person"), "missing person; expected mupots3d_test.npz"),
    ("3dpw", lambda a: a.update(center=a["center"][:-1]), "keys of unequal lengths: imgname 7, center 6"),
    ("3dpw", lambda a: a.update(pose=np.zeros((7, 69))), "pose has shape (7, 69); expected (N, 72)"),
    ("3dpw", lambda a: a.update(gender=np.array(["m"] * 6 + ["q"])), "gender[6] is 'q'; expected m, f or n"),
    ("3dpw", lambda a: a["imgname"].__setitem__(2, "A/frame2.png"), "imgname[2] is 'A/frame2.png'; expected a name"),
    ("mpi-inf-3dhp", lambda a: a.update(S=a["S"][..., :3]), "S has shape (4, 24, 3); expected (N, 24, 4)"),
    ("mpi-inf-3dhp", lambda a: a["S"].__setitem__((2, 9, 3), 0.0), "S[2] has confidence 0 in slot 9"),
    ("mupots", lambda a: a.update(joints3d=a["joints3d"][:, :14]), "joints3d has shape (4, 14, 3); expected (N, 17,"),
    ("mupots", lambda a: a["person"].__setitem__(1, 0), "sequence TS1_0 has frame 0 more than once"),
])
def test_bad_npz_files(tmp_path, name, change, message):
    arrays = NPZ_CASES[name]()
    change(arrays)
    path = tmp_path / "data.npz"
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match="data.npz: ") as info:
        load_benchmark(name, path)
    assert message in str(info.value)


@pytest.mark.parametrize("name", NPZ_CASES)
def test_truncated_and_missing_npz(tmp_path, name):
    path = tmp_path / "data.npz"
    np.savez(path, **NPZ_CASES[name]())
    path.write_bytes(path.read_bytes()[:-200])
    with pytest.raises(DatasetError, match=r"data\.npz: cannot be read as an \.npz file .*truncated"):
        load_benchmark(name, path)
    with pytest.raises(DatasetError, match=r"absent\.npz: no such file; expected"):
        load_benchmark(name, tmp_path / "absent.npz")


# ---------------------------------------------------------------- AIST++

SEQ = "gBR_sBM_cAll_d04_mBR0_ch01"


def write_aistpp(root, frames=5, poses_shape=(72,)):
    rng = np.random.default_rng(3)
    for sub in ("motions", "keypoints2d", "cameras"):
        (root / sub).mkdir(parents=True)
    poses = rng.normal(scale=0.4, size=(frames, 72))
    motion = {"smpl_poses": poses.reshape(frames, *poses_shape), "smpl_trans": rng.normal(size=(frames, 3)),
              "smpl_scaling": np.array([93.0]), "smpl_loss": 1.5}
    keypoints = np.zeros((9, frames, 17, 3))
    keypoints[..., 0] = np.linspace(400, 600, 17)
    keypoints[..., 1] = np.linspace(200, 700, 17)
    keypoints[..., 2] = 0.8
    keypoints[1, 2] = np.nan  # view c02, frame 2: no detection
    with open(root / "motions" / f"{SEQ}.pkl", "wb") as fh:
        pickle.dump(motion, fh, protocol=pickle.HIGHEST_PROTOCOL)
    with open(root / "keypoints2d" / f"{SEQ}.pkl", "wb") as fh:
        pickle.dump({"keypoints2d": keypoints, "det_scores": np.ones((9, frames)), "timestamps": np.arange(frames)},
                    fh, protocol=pickle.HIGHEST_PROTOCOL)
    (root / "cameras" / "mapping.txt").write_text(f"{SEQ} setting1\ngBR_sBM_cAll_d04_mBR1_ch02 setting2\n")
    cameras = [{"name": f"c{i:02d}", "size": [1920, 1080], "matrix": [[1500, 0, 960], [0, 1500, 540], [0, 0, 1]],
                "distortions": [0.0] * 5, "rotation": [0.0, 0.3 * i, 0.1], "translation": [0.0, 100.0, 500.0]}
               for i in range(1, 10)]
    (root / "cameras" / "setting1.json").write_text(json.dumps(cameras))
    return root, poses, cameras


@pytest.mark.parametrize("poses_shape", [(72,), (24, 3)])
def test_aistpp_views_in_camera_frames(tmp_path, poses_shape):
    root, poses, cameras = write_aistpp(tmp_path, poses_shape=poses_shape)
    logged = []
    bench = load_benchmark("aistpp", root, views=["c02", "c01"], log=logged.append)
    assert bench.fps == 60.0 and len(bench) == 9
    assert len(logged) == 1 and "view c02: 1 of 5 frames have no 2D keypoint" in logged[0]
    assert bench.sequence.tolist() == ["gBR_sBM_c02_d04_mBR0_ch01"] * 4 + ["gBR_sBM_c01_d04_mBR0_ch01"] * 5
    assert bench.image_paths[2] == "gBR_sBM_c02_d04_mBR0_ch01/00000003.jpg"
    assert bench.frame.tolist() == [0, 1, 3, 4, 0, 1, 2, 3, 4]
    assert (bench.gender == "m").all() and not bench.betas.any()
    np.testing.assert_allclose(bench.center, np.tile([500.0, 450.0], (9, 1)))
    np.testing.assert_allclose(bench.scale, np.full(9, 1.2 * 500 / 200))
    rotation = matrices(cameras[1]["rotation"])  # c02
    np.testing.assert_allclose(matrices(bench.pose[2, :3]), rotation @ matrices(poses[3, :3]), atol=1e-10)
    np.testing.assert_allclose(bench.pose[:, 3:], poses[[0, 1, 3, 4, 0, 1, 2, 3, 4], 3:])


def test_bad_aistpp_folders(tmp_path):
    root, _, _ = write_aistpp(tmp_path)
    with pytest.raises(DatasetError, match="AIST\\+\\+ views \\['c10'\\]"):
        load_benchmark("aistpp", root, views=["c10"])
    with pytest.raises(DatasetError, match=r"mapping\.txt: no line for sequence gBR_sBM_cAll_d04_mBR9_ch01"):
        load_benchmark("aistpp", root, sequences=["gBR_sBM_cAll_d04_mBR9_ch01"])
    with pytest.raises(DatasetError, match=r"cameras/setting2\.json: no such file"):
        load_benchmark("aistpp", root, sequences=["gBR_sBM_cAll_d04_mBR1_ch02"])
    (root / "cameras" / "setting2.json").write_text("[]")
    with pytest.raises(DatasetError, match=r"motions/gBR_sBM_cAll_d04_mBR1_ch02\.pkl: no such file"):
        load_benchmark("aistpp", root, sequences=["gBR_sBM_cAll_d04_mBR1_ch02"])
    with open(root / "keypoints2d" / f"{SEQ}.pkl", "wb") as fh:
        pickle.dump({"keypoints2d": np.zeros((9, 4, 17, 3))}, fh)
    with pytest.raises(DatasetError, match=r"keypoints2d/gBR.*\.pkl: keypoints2d .* has shape \(9, 4, 17, 3\); "
                                           r"expected \(9, 5, J, 3\)"):
        load_benchmark("aistpp", root)
    (root / "cameras" / "setting1.json").write_text('[{"name": "c01"}]')
    with pytest.raises(DatasetError, match=r"setting1\.json: camera 0 has no name or rotation"):
        load_benchmark("aistpp", root)
    with pytest.raises(DatasetError, match=r"elsewhere/motions: no such folder"):
        load_benchmark("aistpp", tmp_path / "elsewhere")


# ---------------------------------------------------------------- the common type

def benchmark(sequence, frame, **extra):
    n = len(sequence)
    fields = {"pose": np.zeros((n, 72)), "betas": np.zeros((n, 10)), "gender": np.full(n, "n")}
    fields.update(extra)
    return BenchmarkSet(name="t", image_paths=np.array([f"{i}.jpg" for i in range(n)]), center=np.zeros((n, 2)),
                        scale=np.ones(n), sequence=np.array(sequence), frame=np.array(frame), fps=30.0, source="t.npz",
                        **fields)


def test_sequences_in_order_of_first_appearance_sorted_by_frame():
    bench = benchmark(["b", "a", "b", "c", "a", "b"], [5, 2, 1, 0, 0, 3])
    assert [s.tolist() for s in bench.sequences()] == [[2, 5, 0], [4, 1], [3]]


@pytest.mark.parametrize("sequence, frame, extra, message", [
    (["a", "a"], [1, 1], {}, "sequence a has frame 1 more than once"),
    (["a"], [0], {"joints3d": np.zeros((1, 17, 3)), "joint_layout": "h36m17"}, "exactly one of them"),
    (["a"], [0], {"betas": np.zeros((1, 11))}, "betas has shape (1, 11); expected (1, 10)"),
    (["a"], [0], {"gender": np.array(["x"])}, "gender values ['x']"),
    ([], [], {}, "holds no sample"),
])
def test_inconsistent_benchmark_sets(sequence, frame, extra, message):
    with pytest.raises(DatasetError, match="t.npz: ") as info:
        benchmark(sequence, frame, **extra)
    assert message in str(info.value)


def test_unknown_benchmark_name(tmp_path):
    with pytest.raises(MocapHMRError, match="unknown benchmark 'h36m'; known: 3dpw, mpi-inf-3dhp, aistpp, mupots"):
        load_benchmark("h36m", tmp_path)
