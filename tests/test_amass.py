"""AMASS reading: frame change, resampling, layouts, and every malformed-file error."""

import math

import numpy as np
import pytest
import torch
from amass_files import write_amass

from mocap_hmr.body import SMPL_JOINT_NAMES, BodyModel
from mocap_hmr.data.amass import MotionFileError, load_amass_npz, resample_indices


def test_zup_standing_subject_becomes_yup(tmp_path, tiny_body_dir):
    motion = load_amass_npz(write_amass(tmp_path / "a.npz"))
    np.testing.assert_allclose(motion["poses"][:, 0], 0.0, atol=1e-6)  # upright = no root rotation
    np.testing.assert_allclose(motion["trans"][0], [0.0, 0.9, 0.0], atol=1e-6)  # z up -> y up
    out = BodyModel(tiny_body_dir)(torch.from_numpy(motion["poses"][:1]), transl=torch.from_numpy(motion["trans"][:1]))
    head, pelvis = out.joints[0, SMPL_JOINT_NAMES.index("head")], out.joints[0, 0]
    assert head[1] > pelvis[1] + 0.3 and abs(head[0] - pelvis[0]) < 0.05
    assert motion["poses"].dtype == np.float32 and motion["poses"].shape == (31, 24, 3)


def test_120_to_30_fps_keeps_duration_and_every_fourth_frame(tmp_path):
    motion = load_amass_npz(write_amass(tmp_path / "a.npz", n_frames=121, fps=120.0), fps=30)
    np.testing.assert_allclose(motion["trans"][:, 0], np.arange(0, 121, 4))
    assert motion["fps"] == 30 and motion["source_fps"] == 120
    duration_in, duration_out = 120 / 120.0, (len(motion["trans"]) - 1) / 30.0
    assert duration_out == pytest.approx(duration_in)


@pytest.mark.parametrize("fps", [15, 7.5, 3.75])
def test_paper_ablation_rates(tmp_path, fps):
    motion = load_amass_npz(write_amass(tmp_path / "a.npz", n_frames=481, fps=120.0), fps=fps)
    step = 120 / fps
    np.testing.assert_allclose(motion["trans"][:, 0], np.arange(0, 481, step))


def test_uneven_sources_pick_the_nearest_frame():
    idx = resample_indices(101, 100.0, 30.0)  # 1 s at 100 fps
    assert len(idx) == 31 and idx[-1] == 100
    np.testing.assert_array_equal(idx[:4], [0, 3, 7, 10])
    idx = resample_indices(600, 59.94, 30.0)
    assert len(idx) == 300
    times_out, times_in = np.arange(300) / 30.0, idx / 59.94
    assert np.abs(times_out - times_in).max() <= 0.5 / 59.94 + 1e-9
    np.testing.assert_array_equal(resample_indices(10, 30.0, 30.0), np.arange(10))


def test_keep_source_rate(tmp_path):
    motion = load_amass_npz(write_amass(tmp_path / "a.npz", n_frames=50), fps=None)
    assert len(motion["poses"]) == 50 and motion["fps"] == 120.0


@pytest.mark.parametrize("width,left,right", [(156, 66, 111), (165, 75, 120), (72, 66, 69)])
def test_layouts_and_hand_joints(tmp_path, width, left, right):
    path = write_amass(tmp_path / "a.npz", width=width)
    poses = np.load(path)["poses"]
    poses[:, 3:6] = 0.1  # left hip
    poses[:, left:left + 3] = 0.2
    poses[:, right:right + 3] = 0.3
    write_amass(path, width=width, poses=poses)
    motion = load_amass_npz(path)
    np.testing.assert_allclose(motion["poses"][0, 1], 0.1)
    np.testing.assert_allclose(motion["poses"][0, 22], 0.2)
    np.testing.assert_allclose(motion["poses"][0, 23], 0.3)


@pytest.mark.parametrize("key", ["mocap_framerate", "mocap_frame_rate"])
def test_both_frame_rate_keys(tmp_path, key):
    assert load_amass_npz(write_amass(tmp_path / "a.npz", fps_key=key))["source_fps"] == 120.0


@pytest.mark.parametrize("gender", [np.array("female"), np.array(b"female"), np.array("Female")])
def test_gender_variants(tmp_path, gender):
    assert load_amass_npz(write_amass(tmp_path / "a.npz", gender=gender))["gender"] == "female"


def _bad(tmp_path, **kw):
    return write_amass(tmp_path / "bad.npz", **kw)


@pytest.mark.parametrize("make,pattern", [
    (lambda p: _bad(p, poses=np.zeros((120, 63))),
     r"bad.npz: poses has shape \(120, 63\); AMASS files have \(N, 156\) SMPL\+H, \(N, 72\) SMPL or \(N, 165\)"),
    (lambda p: _bad(p, poses=np.where(np.arange(156) == 5, np.nan, np.zeros((121, 156)))),
     r"bad.npz: poses has 121 NaN/Inf values, the first at frame 0"),
    (lambda p: _bad(p, trans=np.where(np.arange(121)[:, None] == 7, np.inf, np.zeros((121, 3)))),
     r"bad.npz: trans has 3 NaN/Inf values, the first at frame 7"),
    (lambda p: _bad(p, mocap_framerate=None),
     r"bad.npz: no frame-rate key \(neither mocap_framerate nor mocap_frame_rate\)"),
    (lambda p: _bad(p, poses=np.zeros((0, 156)), trans=np.zeros((0, 3))), r"bad.npz: poses has zero frames"),
    (lambda p: _bad(p, trans=np.zeros((100, 3))), r"bad.npz: trans has shape \(100, 3\); expected \(121, 3\)"),
    (lambda p: _bad(p, betas=None), r"bad.npz: missing betas"),
    (lambda p: _bad(p, gender=np.array("robot")), r"bad.npz: gender: .*not one of neutral / male / female"),
    (lambda p: _bad(p, mocap_framerate=np.array(0.0)), r"bad.npz: mocap_framerate is 0.0"),
])
def test_malformed_files_name_the_file_and_field(tmp_path, make, pattern):
    with pytest.raises(MotionFileError, match=pattern):
        load_amass_npz(make(tmp_path))


def test_unreadable_file(tmp_path):
    path = tmp_path / "cut.npz"
    full = write_amass(tmp_path / "full.npz")
    path.write_bytes(full.read_bytes()[:300])
    with pytest.raises(MotionFileError, match=r"cut.npz: cannot be read as an .npz file"):
        load_amass_npz(path)


def test_rotated_root_keeps_heading(tmp_path):
    # a Z-up subject turned by +90 degrees about the vertical (Z) faces -Y rotated: check the
    # conversion is a change of frame: vertical stays vertical, heading turns about +Y
    from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_axis_angle

    turn = axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.pi / 2], dtype=torch.float64))
    upright = axis_angle_to_matrix(torch.tensor([math.pi / 2, 0.0, 0.0], dtype=torch.float64))
    root = matrix_to_axis_angle(turn @ upright).numpy()
    poses = np.zeros((121, 156))
    poses[:, :3] = root
    motion = load_amass_npz(write_amass(tmp_path / "a.npz", poses=poses))
    expected = axis_angle_to_matrix(torch.tensor([0.0, math.pi / 2, 0.0]))
    got = axis_angle_to_matrix(torch.from_numpy(motion["poses"][0, 0]))
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)
