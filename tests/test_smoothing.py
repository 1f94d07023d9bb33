"""Smoothing prediction files: every layout written back as it came (keys, shapes, dtypes,
other values untouched), several people of different lengths, VIBE's joblib pickles, gaps
between detections, NaN frames, and clear errors for files in no known layout."""

import io
import pickle
import sys
import types
import zipfile

import numpy as np
import pytest
import torch

from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.smoothers import make_smoother
from mocap_hmr.smoothing import PredictionsFileError, acceleration, read_predictions, smooth_file


@pytest.fixture(scope="module")
def model(jittered_posebert):
    return jittered_posebert


@pytest.fixture(scope="module")
def smoother(model):
    return make_smoother("posebert", model)


def jittery_axis_angle(n, seed=0):
    """(n, 24, 3): slow motion plus per-frame noise."""
    rng = np.random.default_rng(seed)
    slow = np.sin(np.linspace(0, 3, n))[:, None, None] * rng.normal(scale=0.5, size=(1, 24, 3))
    return slow + rng.normal(scale=0.1, size=(n, 24, 3))


def as_matrices(axis_angle):
    return axis_angle_to_matrix(torch.from_numpy(axis_angle).float()).numpy()


def check_written_like(before, after, pose_keys, dropped=()):
    assert list(after) == [key for key in before if key not in dropped]
    for key, value in before.items():
        if key in dropped:
            continue
        if isinstance(value, dict):
            check_written_like(value, after[key], pose_keys, dropped)
        elif key in pose_keys:
            assert after[key].shape == value.shape and after[key].dtype == value.dtype, key
            assert np.isfinite(after[key]).all() and not np.allclose(after[key], value, atol=1e-3), key
        elif isinstance(value, np.ndarray):
            assert np.array_equal(after[key], value), key
        else:
            assert after[key] == value, key


NPZ_LAYOUTS = {
    "pose (N, 72)": lambda aa: {"pose": aa.reshape(-1, 72).astype(np.float32)},
    "pose (N, 24, 3, 3) float64": lambda aa: {"pose": as_matrices(aa).astype(np.float64)},
    "global_orient (N, 3) + body_pose (N, 69)": lambda aa: {
        "global_orient": aa[:, 0].astype(np.float32), "body_pose": aa[:, 1:].reshape(-1, 69).astype(np.float32)},
    "global_orient (N, 1, 3, 3) + body_pose (N, 23, 3, 3)": lambda aa: {
        "global_orient": as_matrices(aa)[:, :1], "body_pose": as_matrices(aa)[:, 1:]},
}


@pytest.mark.parametrize("layout", NPZ_LAYOUTS)
@pytest.mark.parametrize("compressed", [False, True])
def test_npz_layouts_round_trip(tmp_path, smoother, layout, compressed):
    aa = jittery_axis_angle(40)
    data = {**NPZ_LAYOUTS[layout](aa), "betas": np.ones((40, 10), np.float32), "trans": np.zeros((40, 3)),
            "gender": np.array("neutral")}
    src, dst = tmp_path / "pred.npz", tmp_path / "out.npz"
    (np.savez_compressed if compressed else np.savez)(src, **data)
    report = smooth_file(src, dst, smoother)
    after = dict(np.load(dst))
    check_written_like(data, after, {"pose", "global_orient", "body_pose"})
    with zipfile.ZipFile(dst) as archive:
        assert {i.compress_type != zipfile.ZIP_STORED for i in archive.infolist()} == {compressed}
    [track] = report.tracks
    assert (track.track, track.frames, track.filled) == ("", 40, 0)
    assert track.accel_after < track.accel_before
    assert "person: 40 frames, 0 filled in" in report.summary()


class _JoblibWrapper:
    """Pickled under joblib's name, as joblib.dump pickles the arrays it then writes raw."""

    __module__, __qualname__ = "joblib.numpy_pickle", "NumpyArrayWrapper"

    def __init__(self, array):
        self.subclass, self.shape, self.order, self.dtype = np.ndarray, array.shape, "C", array.dtype
        self.allow_mmap, self.numpy_array_alignment_bytes = True, 16


class _JoblibLikePickler(pickle._Pickler):
    """joblib's file format (joblib >= 1.2, uncompressed): each array is replaced by a wrapper,
    the frame is closed, then a padding length byte, padding to 16 bytes and the array's bytes."""

    def __init__(self, fh):
        super().__init__(fh, protocol=4)
        self.fh = fh

    def save(self, obj, save_persistent_id=True):
        if type(obj) is not np.ndarray:
            return super().save(obj, save_persistent_id)
        super().save(_JoblibWrapper(obj))
        self.framer.commit_frame(force=True)
        padding = 16 - (self.fh.tell() + 1) % 16
        self.fh.write(bytes([padding]) + b"\xff" * padding + np.ascontiguousarray(obj).tobytes())


def joblib_dump(obj, path, monkeypatch):
    module = types.ModuleType("joblib.numpy_pickle")
    module.NumpyArrayWrapper = _JoblibWrapper
    monkeypatch.setitem(sys.modules, "joblib", types.ModuleType("joblib"))
    monkeypatch.setitem(sys.modules, "joblib.numpy_pickle", module)
    buffer = io.BytesIO()
    _JoblibLikePickler(buffer).dump(obj)
    path.write_bytes(buffer.getvalue())


def vibe_output():
    """VIBE's output: track id -> per-track arrays; two people, 50 and 23 frames, the second with gaps."""
    out = {}
    for track, n, frame_ids in ((1, 50, np.arange(50) + 100), (4, 23, np.r_[0:10, 14:20, 30:37])):
        aa = jittery_axis_angle(n, seed=track)
        out[track] = {"pred_cam": np.ones((n, 3), np.float32), "orig_cam": np.ones((n, 4), np.float32),
                      "verts": np.zeros((n, 20, 3), np.float32), "pose": aa.reshape(n, 72).astype(np.float32),
                      "betas": np.zeros((n, 10), np.float32), "joints3d": np.zeros((n, 49, 3), np.float32),
                      "joints2d": None, "bboxes": np.ones((n, 4), np.float32), "frame_ids": frame_ids}
    return out


@pytest.mark.parametrize("writer", ["joblib", "pickle"])
def test_vibe_output_several_people_of_different_lengths(tmp_path, smoother, monkeypatch, writer):
    data = vibe_output()
    src, dst = tmp_path / "vibe_output.pkl", tmp_path / "smoothed.pkl"
    if writer == "joblib":
        joblib_dump(data, src, monkeypatch)
    else:
        src.write_bytes(pickle.dumps(data, protocol=2))
    assert read_predictions(src).keys() == data.keys()
    report = smooth_file(src, dst, smoother)
    with open(dst, "rb") as fh:
        after = pickle.load(fh)
    check_written_like(data, after, {"pose"}, dropped={"verts", "joints3d"})
    assert report.layout == "vibe" and report.dropped == ["joints3d", "verts"]
    assert read_predictions(dst).keys() == data.keys()
    assert [(t.track, t.frames, t.filled) for t in report.tracks] == [("1", 50, 0), ("4", 23, 37 - 23)]
    assert all(t.accel_after < t.accel_before for t in report.tracks)
    alone = {4: {k: v for k, v in data[4].items()}}
    (tmp_path / "alone.pkl").write_bytes(pickle.dumps(alone))
    smooth_file(tmp_path / "alone.pkl", tmp_path / "alone_out.pkl", smoother)
    with open(tmp_path / "alone_out.pkl", "rb") as fh:
        np.testing.assert_array_equal(pickle.load(fh)[4]["pose"], after[4]["pose"])  # each person on its own


def test_per_track_dicts_and_values_that_are_not_people(tmp_path, model):
    aa = jittery_axis_angle(30)
    data = {"alice": {"global_orient": aa[:, :1], "body_pose": aa[:, 1:]},
            "bob": {"pose": as_matrices(aa[:12])}, "fps": 30.0, "note": "from my detector"}
    src, dst = tmp_path / "people.pickle", tmp_path / "people_out.pickle"
    src.write_bytes(pickle.dumps(data))
    report = smooth_file(src, dst, make_smoother("posebert", model, mode="online"))
    with open(dst, "rb") as fh:
        after = pickle.load(fh)
    check_written_like(data, after, {"pose", "global_orient", "body_pose"})
    assert [(t.track, t.frames) for t in report.tracks] == [("alice", 30), ("bob", 12)]


def test_nan_frames_are_filled(tmp_path, smoother):
    aa = jittery_axis_angle(30).reshape(30, 72)
    aa[[0, 7, 8, 9]] = np.nan
    src, dst = tmp_path / "nan.npz", tmp_path / "nan_out.npz"
    np.savez(src, pose=aa)
    report = smooth_file(src, dst, smoother)
    pose = np.load(dst)["pose"]
    assert np.isfinite(pose).all() and report.tracks[0].filled == 4
    refined = axis_angle_to_matrix(torch.from_numpy(pose).reshape(30, 24, 3))
    seen = torch.from_numpy(np.isfinite(aa).all(1))
    assert report.tracks[0].accel_after == pytest.approx(acceleration(refined, seen), rel=1e-4)


@pytest.mark.parametrize("method", ["one-euro", "savgol", "average"])
def test_filters_smooth_files_without_a_checkpoint(tmp_path, method):
    aa = jittery_axis_angle(40)
    data = {**NPZ_LAYOUTS["global_orient (N, 3) + body_pose (N, 69)"](aa), "betas": np.ones((40, 10), np.float32)}
    src, dst = tmp_path / "pred.npz", tmp_path / "out.npz"
    np.savez(src, **data)
    report = smooth_file(src, dst, make_smoother(method))
    check_written_like(data, dict(np.load(dst)), {"global_orient", "body_pose"})
    assert report.tracks[0].accel_after < 0.5 * report.tracks[0].accel_before


def test_a_person_without_a_finite_frame_is_refused(tmp_path, smoother):
    data = {"1": {"pose": jittery_axis_angle(20).reshape(20, 72)}, "7": {"pose": np.full((30, 72), np.nan)}}
    src, dst = tmp_path / "tracks.pkl", tmp_path / "out.pkl"
    src.write_bytes(pickle.dumps(data))
    for method in (smoother, make_smoother("average")):
        with pytest.raises(PredictionsFileError, match=r"tracks.pkl: track 7: no frame has finite poses \(30 frames"):
            smooth_file(src, dst, method)
    assert not dst.exists()


def test_acceleration_measure():
    rotmat = axis_angle_to_matrix(torch.linspace(0, 1, 10)[:, None, None] * torch.tensor([0.0, 0.0, 1.0]))
    rotmat = rotmat.expand(10, 24, 3, 3)
    smooth = acceleration(rotmat, torch.ones(10, dtype=torch.bool))
    assert smooth == pytest.approx(np.sqrt(2) * 2 * (1 - np.cos(1 / 9)), rel=1e-3)  # constant angular speed
    assert acceleration(rotmat, torch.tensor([True, True] + [False] * 8)) is None


def test_unknown_layouts_and_bad_files(tmp_path, smoother):
    src = tmp_path / "amass.npz"
    np.savez(src, poses=np.zeros((10, 156)), trans=np.zeros((10, 3)))
    dst = tmp_path / "out.npz"
    dst.write_bytes(b"earlier output")
    with pytest.raises(PredictionsFileError, match=r"amass.npz: holds keys poses, trans, in none of the layouts "
                                                   r"understood: 4D-Humans/PHALP.*WHAM.*GVHMR.*TRAM.*VIBE.*"
                                                   r"'pose' \(N, 72\)"
                                                   r".*'global_orient'.*tracks"):
        smooth_file(src, dst, smoother)
    assert dst.read_bytes() == b"earlier output"  # nothing written
    np.savez(src, pose=np.zeros((10, 63)))
    with pytest.raises(PredictionsFileError, match=r"'pose' is float64 of shape \(10, 63\); expected floats of shape "
                                                   r"\(N, 72\) or \(N, 24, 3\) or \(N, 24, 3, 3\)"):
        smooth_file(src, dst, smoother)
    bad_track = tmp_path / "tracks.pkl"
    bad_track.write_bytes(pickle.dumps({0: {"pose": np.zeros((5, 72))}, 1: {"verts": np.zeros((5, 3))}}))
    with pytest.raises(PredictionsFileError, match="track 1 is in none of the layouts understood"):
        smooth_file(bad_track, tmp_path / "o.pkl", smoother)
    gaps = tmp_path / "ids.pkl"
    gaps.write_bytes(pickle.dumps({0: {"pose": np.zeros((3, 72)), "frame_ids": np.array([4, 2, 7])}}))
    with pytest.raises(PredictionsFileError, match="track 0: frame_ids must be 3 increasing integers"):
        smooth_file(gaps, tmp_path / "o.pkl", smoother)
    with pytest.raises(PredictionsFileError, match=r"out.pkl: the output must be the same kind of file"):
        smooth_file(src, tmp_path / "out.pkl", smoother)
    with pytest.raises(PredictionsFileError, match=r"pred.txt: predictions files are .npz, .pkl, .pickle"):
        smooth_file(tmp_path / "pred.txt", tmp_path / "out.txt", smoother)
    (tmp_path / "cut.pkl").write_bytes(pickle.dumps({"pose": np.zeros((10, 72))})[:60])
    with pytest.raises(PredictionsFileError, match="cut.pkl: cannot be read as a pickle file"):
        smooth_file(tmp_path / "cut.pkl", tmp_path / "o.pkl", smoother)


class _Exploit:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_pickles_cannot_run_code(tmp_path, capsys):
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"pose": np.zeros((4, 72)), "x": _Exploit()}))
    with pytest.raises(PredictionsFileError, match=r"evil.pkl: the pickle refers to builtins.print"):
        read_predictions(path)
    assert "never run" not in capsys.readouterr().out


def test_smooth_cli(tmp_path, capsys):
    import numpy as np

    from mocap_hmr.cli import main
    from mocap_hmr.models.posebert import build_posebert, save_posebert

    ckpt = tmp_path / "posebert.pt"
    save_posebert(build_posebert("paper", dim=32, depth=2, heads=2, hidden=24), ckpt)
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "pred.npz", pose=rng.normal(scale=0.2, size=(40, 72)).astype(np.float32))
    assert main(["smooth", str(tmp_path / "pred.npz"), str(tmp_path / "out.npz"), "--checkpoint", str(ckpt),
                 "--device", "cpu", "--plot", str(tmp_path / "knee.png")]) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "plot in" in printed
    from mocap_hmr.imageio import read_image

    plot = read_image(tmp_path / "knee.png").reshape(-1, 3).astype(int)
    for colour in ([214, 39, 40], [31, 119, 180]):  # before in red, after in blue (matplotlib's tab:red, tab:blue)
        assert (np.abs(plot - colour).max(-1) < 10).sum() > 100
    with np.load(tmp_path / "out.npz") as out:
        assert out["pose"].shape == (40, 72) and out["pose"].dtype == np.float32
    assert main(["smooth", str(tmp_path / "pred.npz"), str(tmp_path / "x.npz"), "--checkpoint",
                 str(tmp_path / "none.pt"), "--device", "cpu"]) == 2
    assert main(["smooth", str(tmp_path / "pred.npz"), str(tmp_path / "f.npz"), "--method", "savgol"]) == 0
    with np.load(tmp_path / "f.npz") as out:
        assert out["pose"].shape == (40, 72) and np.isfinite(out["pose"]).all()
    assert main(["smooth", str(tmp_path / "pred.npz"), str(tmp_path / "y.npz")]) == 2
    assert "--method posebert needs --checkpoint" in capsys.readouterr().err
    assert main(["smooth", str(tmp_path / "pred.npz"), str(tmp_path / "y.npz"), "--method", "average",
                 "--checkpoint", str(ckpt)]) == 2
    assert not (tmp_path / "y.npz").exists()
