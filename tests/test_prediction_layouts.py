"""Today's models' output files round-trip through ``smooth``: read, smooth, write, read again in
the same layout, the fields smoothing does not change kept bit for bit, the poses refined, the
derived fields dropped; frames missing from a track are refined, not copied; inconsistent
files get one clear error. Files are written as each program writes them (joblib.dump,
torch.save, np.save of a dict of tensors)."""

import collections
import pickle

import numpy as np
import pytest
import torch

from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.prediction_layouts import find_people
from mocap_hmr.smoothers import make_smoother
from mocap_hmr.smoothing import PredictionsFileError, read_predictions, smooth_file

joblib = pytest.importorskip("joblib")


@pytest.fixture(scope="module")
def smoother():
    return make_smoother("average")


def jitter(n, joints=24, seed=0):
    """(n, joints, 3) axis-angle: slow motion plus per-frame noise."""
    rng = np.random.default_rng(seed)
    slow = np.sin(np.linspace(0, 3, n))[:, None, None] * rng.normal(scale=0.5, size=(1, joints, 3))
    return (slow + rng.normal(scale=0.1, size=(n, joints, 3))).astype(np.float32)


def matrices(aa):
    return axis_angle_to_matrix(torch.as_tensor(aa)).numpy()


def is_rotation(r):
    r = np.asarray(r, np.float64)
    return np.allclose(np.swapaxes(r, -1, -2) @ r, np.eye(3), atol=1e-4) and np.allclose(np.linalg.det(r), 1, atol=1e-4)


def assert_equal_tree(a, b):
    assert type(a) is type(b)
    if isinstance(a, dict):
        assert list(a) == list(b)
        for key in a:
            assert_equal_tree(a[key], b[key])
    elif isinstance(a, list | tuple):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_equal_tree(x, y)
    elif isinstance(a, torch.Tensor):
        assert a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    else:
        assert a == b


def assert_read_again(path, layout, frames):
    """The written file is read again by ``smooth`` in the same layout, the same people and lengths."""
    found = find_people(read_predictions(path), path)
    assert found.layout == layout
    assert [len(p.timeline) for p in found.people] == frames


def without(tree, paths):
    """A copy of a nested dict with the key paths (tuples) removed."""
    tree = dict(tree)
    for path in paths:
        if len(path) == 1:
            tree.pop(path[0], None)
        elif path[0] in tree:
            tree[path[0]] = without(tree[path[0]], [path[1:]])
    return tree


# ---- WHAM ----

def wham_output():
    out = collections.defaultdict(dict)
    for tid, n, ids in ((np.int64(0), 40, np.arange(40)), (np.int64(3), 25, np.r_[5:15, 20:35])):
        cam = jitter(n, seed=int(tid)).reshape(n, 72)
        world = cam.copy()
        world[:, :3] = jitter(n, 1, seed=9).reshape(n, 3)
        out[tid].update(pose=cam, trans=np.ones((n, 3), np.float32), pose_world=world,
                        trans_world=np.arange(n * 3, dtype=np.float32).reshape(n, 3),
                        betas=np.full((n, 10), 0.5, np.float32), verts=np.zeros((n, 20, 3), np.float32),
                        frame_ids=ids)
    return out


def test_wham_round_trip(tmp_path, smoother):
    data = wham_output()
    src, dst = tmp_path / "wham_output.pkl", tmp_path / "smoothed.pkl"
    joblib.dump(data, src)
    report = smooth_file(src, dst, smoother)
    after = joblib.load(dst)
    assert type(after) is collections.defaultdict and list(after) == list(data)
    assert all(type(k) is np.int64 for k in after)
    assert report.layout == "wham" and report.dropped == ["verts"]
    assert_read_again(dst, "wham", [40, 25])
    assert [(t.track, t.frames, t.filled) for t in report.tracks] == [("0", 40, 0), ("3", 25, 5)]
    for tid, person in data.items():
        new = after[tid]
        assert "verts" not in new
        assert_equal_tree(without(person, [("verts",), ("pose",), ("pose_world",)]),
                          without(new, [("pose",), ("pose_world",)]))
        assert new["pose"].shape == person["pose"].shape and new["pose"].dtype == np.float32
        assert not np.allclose(new["pose"], person["pose"], atol=1e-3)
        np.testing.assert_array_equal(new["pose"][:, 3:], new["pose_world"][:, 3:])  # one body, two roots
        assert not np.allclose(new["pose_world"][:, :3], person["pose_world"][:, :3], atol=1e-3)
        assert not np.allclose(new["pose_world"][:, :3], new["pose"][:, :3], atol=1e-2)


def test_wham_lengths_that_differ_are_refused(tmp_path, smoother):
    data = wham_output()
    data[np.int64(3)]["pose_world"] = data[np.int64(3)]["pose_world"][:20]
    joblib.dump(data, tmp_path / "wham_output.pkl")
    with pytest.raises(PredictionsFileError, match=r"wham_output.pkl: track 3: the per-frame fields have different "
                                                   r"numbers of frames \(pose 25, pose_world 20, trans 25"):
        smooth_file(tmp_path / "wham_output.pkl", tmp_path / "o.pkl", smoother)
    assert not (tmp_path / "o.pkl").exists()


def test_gaps_are_filled_by_refinement_not_by_the_files_index(tmp_path):
    """A track seen at frames 0-9 and 20-29: the refined frame 20 comes from a sequence in which
    frames 10-19 are unobserved, not from one where frame 20 follows frame 9."""
    aa = jitter(20)
    data = {7: {"pose": aa.reshape(20, 72), "frame_ids": np.r_[0:10, 20:30], "orig_cam": np.ones((20, 4))}}
    src = tmp_path / "vibe_output.pkl"
    joblib.dump(data, src)
    smoother = make_smoother("average", window=5)
    smooth_file(src, tmp_path / "out.pkl", smoother)
    written = axis_angle_to_matrix(torch.from_numpy(joblib.load(tmp_path / "out.pkl")[7]["pose"]).reshape(20, 24, 3))
    full = torch.full((30, 24, 3, 3), float("nan"))
    full[np.r_[0:10, 20:30]] = axis_angle_to_matrix(torch.from_numpy(aa))
    expected = smoother(full)[np.r_[0:10, 20:30]]
    torch.testing.assert_close(written, expected, atol=1e-4, rtol=0)
    squeezed = smoother(axis_angle_to_matrix(torch.from_numpy(aa)))
    assert (written[10] - squeezed[10]).abs().max() > 1e-2


def test_track_option_refines_one_person(tmp_path, smoother):
    data = wham_output()
    src, dst = tmp_path / "wham_output.pkl", tmp_path / "one.pkl"
    joblib.dump(data, src)
    report = smooth_file(src, dst, smoother, track="3")
    after = joblib.load(dst)
    assert [t.track for t in report.tracks] == ["3"]
    assert_equal_tree(data[np.int64(0)], after[np.int64(0)])  # the other person untouched, verts included
    assert not np.allclose(after[np.int64(3)]["pose"], data[np.int64(3)]["pose"], atol=1e-3)
    with pytest.raises(PredictionsFileError, match=r"wham_output.pkl: no track 5; its tracks: 0, 3"):
        smooth_file(src, dst, smoother, track="5")


# ---- 4D-Humans / PHALP ----

def phalp_results():
    """Two tracks over 12 frames: track 1 everywhere, stale (tracked_time 2) at frames 4 and 5;
    track 2 from frame 3 on, absent at frames 7 and 8."""
    aa = {1: jitter(12, seed=1), 2: jitter(12, seed=2)}
    out = {}
    for t in range(12):
        frame = {"time": t, "shot": 0, "frame_path": f"img/{t:06d}.jpg", "tid": [], "tracked_ids": [],
                 "tracked_time": [], "smpl": [], "pose": [], "camera": [], "bbox": [], "3d_joints": [],
                 "prediction_pose": []}
        for tid in (1, 2):
            if tid == 2 and (t < 3 or t in (7, 8)):
                continue
            stale = 2 if tid == 1 and t in (4, 5) else 0
            r = matrices(aa[tid][t if not stale else 3])
            frame["tid"].append(tid)
            frame["tracked_time"].append(stale)
            if not stale:
                frame["tracked_ids"].append(tid)
            smpl = {"global_orient": r[:1], "body_pose": r[1:], "betas": np.full(10, 0.1 * tid, np.float32)}
            frame["smpl"].append(smpl)
            frame["pose"].append(np.concatenate([r.reshape(-1), smpl["betas"], [0.1, 0.2, 30.0]]).astype(np.float32))
            frame["camera"].append(np.array([0.1, 0.2, 30.0], np.float32))
            frame["bbox"].append(np.array([10, 20, 50, 100], np.float32))
            frame["3d_joints"].append(np.zeros((45, 3), np.float32))
            frame["prediction_pose"].append(np.ones(229, np.float32))
        out[f"img/{t:06d}.jpg"] = frame
    return out


def test_phalp_round_trip(tmp_path, smoother):
    data = phalp_results()
    src, dst = tmp_path / "demo_video.pkl", tmp_path / "demo_smoothed.pkl"
    joblib.dump(data, src, compress=3)
    report = smooth_file(src, dst, smoother)
    after = joblib.load(dst)
    assert report.layout == "4d-humans" and report.dropped == ["3d_joints"]
    assert_read_again(dst, "4d-humans", [12, 7])
    assert [(t.track, t.frames, t.filled) for t in report.tracks] == [("1", 12, 2), ("2", 7, 2)]
    changed = [("smpl",), ("pose",), ("3d_joints",)]
    for key, frame in data.items():
        new = after[key]
        assert_equal_tree(without(frame, changed), without(new, changed))
        for i in range(len(frame["tid"])):
            r = np.concatenate([new["smpl"][i]["global_orient"], new["smpl"][i]["body_pose"]])
            assert is_rotation(r) and new["smpl"][i]["body_pose"].shape == (23, 3, 3)
            np.testing.assert_array_equal(new["smpl"][i]["betas"], frame["smpl"][i]["betas"])
            np.testing.assert_allclose(new["pose"][i][:216], r.reshape(-1), atol=1e-6)  # pose rebuilt
            np.testing.assert_array_equal(new["pose"][i][216:], frame["pose"][i][216:])  # betas and camera kept
    stale4, stale5 = (after[f"img/{t:06d}.jpg"]["smpl"][0]["body_pose"] for t in (4, 5))
    assert not np.allclose(stale4, stale5, atol=1e-4)  # the stale copies are filled in, no longer equal


def test_phalp_unaligned_lists_are_refused(tmp_path, smoother):
    data = phalp_results()
    data["img/000002.jpg"]["smpl"].pop()
    joblib.dump(data, tmp_path / "demo.pkl")
    with pytest.raises(PredictionsFileError, match=r"frame img/000002.jpg: 'tid' has 1 entries, 'smpl' 0"):
        smooth_file(tmp_path / "demo.pkl", tmp_path / "o.pkl", smoother)


# ---- GVHMR ----

def gvhmr_results(n=30):
    def params(seed):
        return {"body_pose": torch.from_numpy(jitter(n, 21, seed).reshape(n, 63)),
                "betas": torch.full((n, 10), 0.3), "global_orient": torch.from_numpy(jitter(n, 1, seed + 5)[:, 0]),
                "transl": torch.arange(n * 3, dtype=torch.float32).reshape(n, 3)}
    incam, world = params(1), params(1)
    world["global_orient"] = torch.from_numpy(jitter(n, 1, 42)[:, 0])
    return {"smpl_params_global": world, "smpl_params_incam": incam, "K_fullimg": torch.eye(3).repeat(n, 1, 1),
            "net_outputs": {"pred_smpl_params_global": {k: v[None].clone() for k, v in world.items()},
                            "pred_smpl_params_incam": {k: v[None].clone() for k, v in incam.items()},
                            "static_conf_logits": torch.zeros(1, n, 6)}}


def test_gvhmr_round_trip(tmp_path, smoother):
    data = gvhmr_results()
    src, dst = tmp_path / "hmr4d_results.pt", tmp_path / "smoothed.pt"
    torch.save(data, src)
    report = smooth_file(src, dst, smoother)
    after = torch.load(dst, weights_only=True)
    assert report.layout == "gvhmr" and report.dropped == []
    assert_read_again(dst, "gvhmr", [30])
    changed = [("body_pose",), ("global_orient",)]
    for key in ("smpl_params_global", "smpl_params_incam"):
        assert_equal_tree(without(data[key], changed), without(after[key], changed))
        assert after[key]["body_pose"].shape == (30, 63) and after[key]["body_pose"].dtype == torch.float32
        assert not torch.allclose(after[key]["global_orient"], data[key]["global_orient"], atol=1e-3)
        for k in ("body_pose", "global_orient"):  # the batched copies follow
            torch.testing.assert_close(after["net_outputs"][f"pred_{key}"][k][0], after[key][k])
    torch.testing.assert_close(after["smpl_params_global"]["body_pose"], after["smpl_params_incam"]["body_pose"])
    assert not torch.allclose(after["smpl_params_incam"]["body_pose"], data["smpl_params_incam"]["body_pose"],
                              atol=1e-3)
    assert_equal_tree(data["K_fullimg"], after["K_fullimg"])
    assert_equal_tree(data["net_outputs"]["static_conf_logits"], after["net_outputs"]["static_conf_logits"])


def test_gvhmr_body_is_refined_as_smpls_first_22_joints(tmp_path):
    """What the smoother sees: global orientation, the 21 SMPL-X body joints as SMPL's joints
    1-21, SMPL's hand joints 22 and 23 at identity."""
    data = gvhmr_results(12)
    torch.save(data, tmp_path / "hmr4d_results.pt")
    seen = []

    def spy(rotmat):
        seen.append(rotmat.clone())
        return rotmat
    from mocap_hmr.smoothers import Smoother
    smooth_file(tmp_path / "hmr4d_results.pt", tmp_path / "o.pt", Smoother("spy", "spy", "offline", spy))
    incam = data["smpl_params_incam"]
    torch.testing.assert_close(seen[0][:, 0], axis_angle_to_matrix(incam["global_orient"]))
    torch.testing.assert_close(seen[0][:, 1:22], axis_angle_to_matrix(incam["body_pose"].reshape(12, 21, 3)))
    torch.testing.assert_close(seen[0][:, 22:], torch.eye(3).expand(12, 2, 3, 3))
    after = torch.load(tmp_path / "o.pt", weights_only=True)  # an identity smoother changes nothing
    torch.testing.assert_close(after["smpl_params_incam"]["body_pose"], incam["body_pose"], atol=1e-5, rtol=0)


def test_gvhmr_lengths_that_differ_are_refused(tmp_path, smoother):
    data = gvhmr_results()
    data["smpl_params_global"]["body_pose"] = data["smpl_params_global"]["body_pose"][:20]
    torch.save(data, tmp_path / "hmr4d_results.pt")
    with pytest.raises(PredictionsFileError, match=r"GVHMR's 'smpl_params_global' has body_pose \(20, 63\) and "
                                                   r"global_orient \(30, 3\)"):
        smooth_file(tmp_path / "hmr4d_results.pt", tmp_path / "o.pt", smoother)


# ---- TRAM ----

def tram_results(n=20):
    rot = torch.from_numpy(matrices(jitter(n, seed=3)))
    return {"pred_cam": torch.ones(n, 3), "pred_pose": torch.cat([rot[..., 0], rot[..., 1]], -1).reshape(n, 144),
            "pred_shape": torch.full((n, 10), 0.2), "pred_rotmat": rot, "pred_trans": torch.ones(n, 1, 3),
            "frame": torch.tensor(np.r_[0:12, 15:23])}


def test_tram_round_trip(tmp_path, smoother):
    data = tram_results()
    src, dst = tmp_path / "hps_track_0.npy", tmp_path / "hps_smoothed.npy"
    np.save(src, data)
    report = smooth_file(src, dst, smoother)
    after = np.load(dst, allow_pickle=True).item()
    assert report.layout == "tram" and [(t.frames, t.filled) for t in report.tracks] == [(20, 3)]
    assert_read_again(dst, "tram", [20])
    assert_equal_tree(without(data, [("pred_rotmat",), ("pred_pose",)]),
                      without(after, [("pred_rotmat",), ("pred_pose",)]))
    rot = after["pred_rotmat"]
    assert is_rotation(rot.numpy()) and not torch.allclose(rot, data["pred_rotmat"], atol=1e-3)
    six = after["pred_pose"].reshape(20, 24, 6)
    torch.testing.assert_close(six[..., :3], rot[..., :, 0])  # regenerated: [R[:, 0], R[:, 1]] per joint
    torch.testing.assert_close(six[..., 3:], rot[..., :, 1])


def test_tram_matrices_that_are_not_rotations_are_refused(tmp_path, smoother):
    data = tram_results()
    data["pred_rotmat"][4, 7] *= 2
    np.save(tmp_path / "hps_track_0.npy", data)
    with pytest.raises(PredictionsFileError, match=r"'pred_rotmat' frame 4, joint 7 is not a rotation matrix"):
        smooth_file(tmp_path / "hps_track_0.npy", tmp_path / "o.npy", smoother)


class _Exploit:
    def __reduce__(self):
        return (print, ("pwned",))


def test_npy_and_pt_files_cannot_run_code(tmp_path, capsys):
    np.save(tmp_path / "evil.npy", {"pred_rotmat": _Exploit()}, allow_pickle=True)
    with pytest.raises(PredictionsFileError, match=r"evil.npy: the pickle refers to builtins.print"):
        read_predictions(tmp_path / "evil.npy")
    (tmp_path / "evil.pkl").write_bytes(pickle.dumps({"a": torch.ones(2), "b": _Exploit()}))
    with pytest.raises(PredictionsFileError, match=r"refers to builtins.print"):
        read_predictions(tmp_path / "evil.pkl")
    torch.save({"a": _Exploit()}, tmp_path / "evil.pt")
    with pytest.raises(PredictionsFileError, match=r"evil.pt: cannot be read as a torch file"):
        read_predictions(tmp_path / "evil.pt")
    assert "pwned" not in capsys.readouterr().out
