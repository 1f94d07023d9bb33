"""The procedural motion corpus: AMASS file layout, determinism, duration, smoothness, joint
limits, pose semantics on the tiny body, walking, and the skeleton preview picture."""

import numpy as np
import pytest
import torch

from mocap_hmr.body import SMPL_JOINT_NAMES, BodyModel
from mocap_hmr.data.procedural import FAMILIES, GENDERS, JOINT_LIMITS, synthesize_motion
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.geometry.frames import zup_to_yup
from mocap_hmr.imageio import read_image
from mocap_hmr.vis.skeletons import PANEL_HEIGHT, PANEL_WIDTH, pick_sequences, save_motion_preview

J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
FPS = 120.0
MINUTES = 2.5
AMASS_KEYS = {"poses", "trans", "betas", "gender", "mocap_framerate"}


def family_of(path):
    return path.stem.rsplit("_", 1)[0]


def to_yup(data):
    """An AMASS file's arrays -> pose (N, 24, 3), trans (N, 3) in SMPL's Y-up frame (float64)."""
    poses = torch.from_numpy(data["poses"])
    pose = torch.zeros(len(poses), 24, 3, dtype=torch.float64)
    pose[:, :22] = poses[:, :66].reshape(-1, 22, 3)
    root, trans = zup_to_yup(pose[:, 0], torch.from_numpy(data["trans"]))
    pose[:, 0] = root
    return pose, trans


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("motion")
    return out, synthesize_motion(out, MINUTES, seed=0, log=lambda message: None)


@pytest.fixture(scope="module")
def sequences(corpus):
    loaded = {}
    for path in corpus[1]:
        with np.load(path) as data:
            loaded[path] = {key: data[key] for key in data.files}
    return loaded


@pytest.fixture(scope="module")
def tiny_body(tiny_body_dir):
    return BodyModel(tiny_body_dir)


def test_every_family_is_in_a_short_corpus(corpus):
    assert {family_of(path) for path in corpus[1]} == set(FAMILIES)


def test_files_have_the_amass_layout(corpus, sequences):
    out_dir, paths = corpus
    for path, data in sequences.items():
        assert path.parent.parent == out_dir and path.parent.name.startswith("subject_")
        assert AMASS_KEYS <= set(data)
        n = len(data["poses"])
        assert data["poses"].shape == (n, 156) and data["poses"].dtype == np.float64
        assert data["trans"].shape == (n, 3) and data["trans"].dtype == np.float64
        assert data["betas"].shape == (16,) and data["betas"].dtype == np.float64
        assert data["gender"].shape == () and str(data["gender"]) in GENDERS
        assert float(data["mocap_framerate"]) == FPS
        assert np.all(data["poses"][:, 66:] == 0.0)  # the finger values
        assert np.all(np.abs(data["betas"]) < 5.0) and np.all(data["betas"][10:] == 0.0)
    by_subject = {}
    for path, data in sequences.items():
        by_subject.setdefault(path.parent.name, []).append(data["betas"])
    for betas in by_subject.values():
        assert all(np.array_equal(b, betas[0]) for b in betas)


def test_total_duration_is_the_minutes_asked_for(sequences):
    frames = [len(data["poses"]) for data in sequences.values()]
    assert sum(frames) == round(MINUTES * 60 * FPS)
    assert all(3 * FPS <= n <= 23 * FPS for n in frames)


def test_same_seed_same_arrays_other_seed_other_arrays(tmp_path):
    first = synthesize_motion(tmp_path / "a", 0.3, seed=5, log=lambda message: None)
    again = synthesize_motion(tmp_path / "b", 0.3, seed=5, log=lambda message: None)
    other = synthesize_motion(tmp_path / "c", 0.3, seed=6, log=lambda message: None)
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in again]
    for a, b in zip(first, again, strict=True):
        with np.load(a) as x, np.load(b) as y:
            assert x.files == y.files
            for key in x.files:
                assert x[key].dtype == y[key].dtype and x[key].tobytes() == y[key].tobytes()
    with np.load(first[0]) as x, np.load(other[0]) as y:
        assert x["poses"].shape != y["poses"].shape or not np.array_equal(x["poses"], y["poses"])


def test_a_longer_corpus_starts_with_the_shorter_ones_sequences(tmp_path):
    short = synthesize_motion(tmp_path / "short", 0.5, seed=3, log=lambda message: None)
    long = synthesize_motion(tmp_path / "long", 1.0, seed=3, log=lambda message: None)
    for a, b in zip(short[:-1], long, strict=False):
        assert a.relative_to(tmp_path / "short") == b.relative_to(tmp_path / "long")
        with np.load(a) as x, np.load(b) as y:
            assert np.array_equal(x["poses"], y["poses"]) and np.array_equal(x["trans"], y["trans"])


def test_poses_are_finite_and_inside_the_joint_limits(sequences):
    for data in sequences.values():
        assert np.isfinite(data["poses"]).all() and np.isfinite(data["trans"]).all()
        body = data["poses"][:, 3:66].reshape(-1, 21, 3)
        assert np.all(body >= JOINT_LIMITS[1:, :, 0] - 1e-9) and np.all(body <= JOINT_LIMITS[1:, :, 1] + 1e-9)


def test_motion_is_smooth_at_120_fps(sequences):
    for path, data in sequences.items():
        body = data["poses"][:, 3:66]
        assert np.abs(np.diff(body, axis=0)).max() < 0.25, path  # rad per frame
        root = axis_angle_to_matrix(torch.from_numpy(data["poses"][:, :3]))
        relative = root[1:] @ root[:-1].transpose(1, 2)
        cos_angle = ((relative.diagonal(dim1=1, dim2=2).sum(-1) - 1) / 2).clamp(-1, 1)
        assert torch.arccos(cos_angle).max() < 0.15, path  # rad per frame
        assert np.linalg.norm(np.diff(data["trans"], axis=0), axis=1).max() < 0.1, path  # metres per frame


def test_knees_never_bend_backwards_and_elbows_never_overextend(sequences):
    for data in sequences.values():
        pose = data["poses"][:, :66].reshape(-1, 22, 3)
        assert pose[:, J["left_knee"], 0].min() >= -1e-9 and pose[:, J["right_knee"], 0].min() >= -1e-9
        assert pose[:, J["left_elbow"], 1].max() <= 1e-9 and pose[:, J["right_elbow"], 1].min() >= -1e-9


def test_bodies_stand_upright_in_smpl_frame(sequences, tiny_body):
    """Back in Y-up, the root's up axis points up, the head is well above the pelvis and
    the feet below it, at ten moments of every sequence."""
    for path, data in sequences.items():
        pose, trans = to_yup(data)
        frames = np.linspace(0, len(pose) - 1, 10).round().astype(int)
        up = axis_angle_to_matrix(pose[frames, 0])[:, :, 1]
        assert (up[:, 1] > 0.6).all(), path
        with torch.no_grad():
            joints = tiny_body(pose[frames].float(), transl=trans[frames].float()).joints
        head, pelvis = joints[:, J["head"], 1], joints[:, J["pelvis"], 1]
        feet = joints[:, [J["left_ankle"], J["right_ankle"]], 1].min(1).values
        assert (head - pelvis > 0.25).all(), path
        assert (pelvis - feet > 0.3).all(), path
        assert (trans[:, 1] > 0.3).all() and (trans[:, 1] < 2.0).all(), path


def test_first_frames_stand_on_the_floor(sequences, tiny_body):
    """The lowest foot joint of every sequence's first frame is at about the same height."""
    lowest = []
    for data in sequences.values():
        pose, trans = to_yup(data)
        with torch.no_grad():
            joints = tiny_body(pose[:1].float(), transl=trans[:1].float()).joints[0]
        lowest.append(float(joints[[J["left_foot"], J["right_foot"]], 1].min()))
    assert max(lowest) - min(lowest) < 0.15


def forward_and_side_speeds(data):
    """(N-1,) speeds (m/s) along and across the body's facing direction, in Y-up."""
    pose, trans = to_yup(data)
    facing = axis_angle_to_matrix(pose[:, 0])[:, :, 2][:, [0, 2]]
    facing = facing / facing.norm(dim=1, keepdim=True)
    velocity = (trans[1:, [0, 2]] - trans[:-1, [0, 2]]) * FPS
    forward = (velocity * facing[:-1]).sum(1)
    side = velocity[:, 0] * facing[:-1, 1] - velocity[:, 1] * facing[:-1, 0]
    return forward.numpy(), side.numpy()


@pytest.mark.parametrize("family, slowest, fastest", [("walk", 0.4, 2.0), ("run", 1.5, 5.0)])
def test_gaits_move_forward_along_their_heading(sequences, family, slowest, fastest):
    gaits = [data for path, data in sequences.items() if family_of(path) == family]
    assert gaits
    for data in gaits:
        forward, side = forward_and_side_speeds(data)
        assert forward.min() > -0.2
        assert slowest < forward.mean() < fastest
        assert np.abs(side).mean() < 0.3 * forward.mean()


def test_in_place_families_stay_in_place(sequences):
    for path, data in sequences.items():
        if family_of(path) in ("squat", "sit", "reach", "arm_swing", "turn"):
            travel = np.linalg.norm(data["trans"][:, :2] - data["trans"][0, :2], axis=1).max()
            assert travel < 0.8, path


def test_preview_draws_a_panel_per_sequence_and_moment(corpus, tmp_path, tiny_body_dir):
    out = save_motion_preview(corpus[0], tmp_path / "preview.png", n_sequences=2, n_frames=3,
                              body_dir=tiny_body_dir)
    image = read_image(out)
    assert image.shape == (2 * PANEL_HEIGHT, 3 * PANEL_WIDTH, 3)
    for row in range(2):
        for col in range(3):
            panel = image[row * PANEL_HEIGHT:(row + 1) * PANEL_HEIGHT, col * PANEL_WIDTH:(col + 1) * PANEL_WIDTH]
            coloured = (panel.max(-1).astype(int) - panel.min(-1)) > 60  # blue or orange bones
            assert coloured.sum() > 50


def test_preview_builds_the_tiny_body_by_default(corpus, tmp_path):
    image = read_image(save_motion_preview(corpus[0], tmp_path / "p.png", n_sequences=1, n_frames=2))
    assert image.shape == (PANEL_HEIGHT, 2 * PANEL_WIDTH, 3) and (image < 250).any()


def test_preview_picks_different_kinds_of_motion(corpus):
    picked = pick_sequences(corpus[1], 4)
    assert len({family_of(path) for path in picked}) == 4
    assert pick_sequences(corpus[1], 4) == picked


def test_bad_arguments_are_named(tmp_path):
    with pytest.raises(MocapHMRError, match="minutes"):
        synthesize_motion(tmp_path, 0.0, seed=0)
    with pytest.raises(MocapHMRError, match="seed"):
        synthesize_motion(tmp_path, 1.0, seed=-1)
    with pytest.raises(MocapHMRError, match=str(tmp_path)):
        save_motion_preview(tmp_path, tmp_path / "p.png")
