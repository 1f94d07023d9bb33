"""The embedded world's real domain and the stand-in SPIN trained on it, on the tiny body:
the real domain holds only its families, cameras and look; the splits share no sequence;
the stand-in starts from the domain's mean pose, keeps its best held-out score, is cached,
and is what the main job fine-tunes."""

import json
import math

import pytest
import torch

from mocap_hmr.config import load_config
from mocap_hmr.data.embedded_world import (
    GAP_FAMILIES,
    PHOTO_CAMERAS,
    REAL_FAMILIES,
    family_sequences,
    only_families,
    real_domain_corpus,
    real_motion_index,
)
from mocap_hmr.data.motion_index import load_index
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.evaluation.embedded import real_domain_set
from mocap_hmr.evaluation.scoring import body_points
from mocap_hmr.filters import nearest_rotation
from mocap_hmr.geometry import axis_angle_to_matrix, rot6d_to_matrix
from mocap_hmr.geometry.cameras import FLIP
from mocap_hmr.metrics import pa_mpjpe
from mocap_hmr.models.checkpoints import read_checkpoint
from mocap_hmr.training.runner import build_streams, with_starting_model
from mocap_hmr.training.stand_in_spin import CropSet, build_lr, mean_pose6d, stand_in_spin, stand_in_spin_path

QUIET = {"log": lambda message: None}
SIZE = 32


@pytest.fixture(scope="module")
def body(tiny_body):
    return tiny_body


def _cfg(tiny_body_dir, tmp_path, **extra):
    overrides = {"out_dir": str(tmp_path), "device": "cpu", "body.model_path": str(tiny_body_dir),
                 "render.image_size": SIZE, "render.backend": "torch", "mocap_spin.backbone": "tiny",
                 "stand_in_spin.images": 32, "stand_in_spin.held_out_images": 16, "stand_in_spin.batch_size": 8,
                 "stand_in_spin.max_steps": 4, "stand_in_spin.eval_every": 1, "stand_in_spin.patience": 1, **extra}
    return load_config(None, [f"{k}={v}" for k, v in overrides.items()])


def test_real_domain_splits_hold_only_its_families_and_differ(body):
    corpus = only_families(load_index(real_motion_index(**QUIET)), REAL_FAMILIES)
    train = real_domain_set(body, SIZE, 24, "train", **QUIET)
    held_out = real_domain_set(body, SIZE, 24, "held-out", seed=1, **QUIET)
    assert train.images.shape == (24, 3, SIZE, SIZE) and train.has_smpl.all() and train.has_3d.all()
    body_pose = corpus.poses[:, 1:].flatten(1)
    for split in (train, held_out):  # every body pose is a frame of the real domain's corpus
        distance = torch.cdist(split.pose[:, 1:].flatten(1), body_pose).amin(1)
        assert distance.max() < 1e-2  # (the renderer returns poses through float32 rotations)
    assert torch.cdist(train.pose[:, 1:].flatten(1), held_out.pose[:, 1:].flatten(1)).min() > 0.05
    again = real_domain_set(body, SIZE, 24, "train", **QUIET)  # the cache: bit for bit
    assert torch.equal(again.images, train.images) and torch.equal(again.pose, train.pose)
    with pytest.raises(MocapHMRError, match="split must be one of"):
        real_domain_set(body, SIZE, 4, "test", **QUIET)


def test_a_gap_share_makes_the_gap_families_a_tail_of_middle_cuts(body):
    index = load_index(real_motion_index(**QUIET))
    without = real_domain_corpus(index, 0.0)
    assert without.names == only_families(index, REAL_FAMILIES).names
    tail = real_domain_corpus(index, 0.1)
    gap = family_sequences(tail, GAP_FAMILIES)
    assert set(tail.names) == set(without.names) | {index.names[s] for s in family_sequences(index, GAP_FAMILIES)}
    assert float(tail.lengths[gap].sum()) / tail.num_frames == pytest.approx(0.1, abs=0.005)
    for s, name in enumerate(tail.names):  # real sequences whole, gap ones a contiguous middle part
        whole = index.names.index(name)
        original = index.poses[int(index.offsets[whole]):int(index.offsets[whole + 1])]
        kept = tail.poses[int(tail.offsets[s]):int(tail.offsets[s + 1])]
        start = int(torch.cdist(kept[:1].flatten(1), original.flatten(1)).argmin())
        torch.testing.assert_close(kept, original[start:start + len(kept)])
        after = len(original) - start - len(kept)
        assert (start, after) == (0, 0) if s not in gap else abs(start - after) <= 1
    crops = real_domain_set(body, SIZE, 24, "train", gap_share=0.3, **QUIET)
    gap_poses = real_domain_corpus(index, 0.3).select(gap)
    from_gap = torch.cdist(crops.pose[:, 1:].flatten(1), gap_poses.poses[:, 1:].flatten(1)).amin(1) < 1e-2
    assert 0 < int(from_gap.sum()) < len(crops.pose)  # the tail is drawn, and not alone
    for share in (-0.1, 0.9):
        with pytest.raises(MocapHMRError, match=r"stand_in_spin.gap_share must lie in \[0, 0.4"):
            real_domain_corpus(index, share)


def test_real_domain_cameras_are_photo_like(body):
    crops = real_domain_set(body, SIZE, 24, "train", **QUIET)
    corpus = load_index(real_motion_index(**QUIET))
    # the view rotation = FLIP @ camera-frame root @ world root^T; its pitch and roll stay in PHOTO_CAMERAS
    body_pose = corpus.poses[:, 1:].flatten(1)
    frame = torch.cdist(crops.pose[:, 1:].flatten(1), body_pose).argmin(1)
    view = FLIP @ axis_angle_to_matrix(crops.pose[:, 0]) @ axis_angle_to_matrix(corpus.poses[frame, 0]).transpose(1, 2)
    pitch = torch.asin(view[:, 2, 1].clamp(-1, 1))  # R = Rz(roll) Rx(pitch) Ry(yaw): R[2, 1] = sin(pitch)
    roll = torch.atan2(-view[:, 0, 1], view[:, 1, 1])
    assert pitch.abs().max() <= math.radians(PHOTO_CAMERAS["pitch"]) + 1e-3
    assert roll.abs().max() <= math.radians(PHOTO_CAMERAS["roll"]) + 1e-3


def test_mean_pose_is_each_joints_nearest_rotation_to_the_mean_matrix():
    generator = torch.Generator().manual_seed(0)
    pose = 0.3 * torch.randn(50, 24, 3, generator=generator, dtype=torch.float64)
    expected = torch.stack([nearest_rotation(axis_angle_to_matrix(pose[:, j]).mean(0)) for j in range(24)])
    got = rot6d_to_matrix(mean_pose6d(pose).reshape(24, 6)).double()
    torch.testing.assert_close(got[1:], expected[1:], atol=1e-5, rtol=0)
    torch.testing.assert_close(got[0], FLIP.double(), atol=1e-6, rtol=0)  # upright, facing the camera


def test_crop_set_draws_its_own_samples_with_replacement(body):
    crops = real_domain_set(body, SIZE, 8, "train", **QUIET)
    batch = CropSet(crops, torch.device("cpu")).sample(20, torch.Generator().manual_seed(0))
    assert batch.images.shape[0] == 20
    match = (batch.pose[:, None] == crops.pose[None]).flatten(2).all(-1)  # (20, 8)
    assert match.any(1).all() and len(torch.unique(match.float().argmax(1))) < 20 + 1


def test_stand_in_is_trained_once_scored_and_cached(body, tiny_body_dir, tmp_path):
    cfg = _cfg(tiny_body_dir, tmp_path)
    torch.manual_seed(7)
    path = stand_in_spin(cfg, body, torch.device("cpu"), **QUIET)
    after_building = torch.rand(3)
    assert path == stand_in_spin_path(cfg, body) and path.is_file()
    info = json.loads(path.with_suffix(".json").read_text())
    scores = [h["pa_mpjpe"] for h in info["history"]]
    assert info["pa_mpjpe"] == min(scores) and info["step"] == info["history"][scores.index(min(scores))]["step"]
    assert info["mean_pose_pa_mpjpe"] > 0 and info["recipe"]["images"] == 32
    weights = read_checkpoint(path)["model"]
    start = mean_pose6d(real_domain_set(body, SIZE, 32, "train", **QUIET).pose)
    torch.testing.assert_close(weights["init_pose"][0], start)
    held_out = real_domain_set(body, SIZE, 16, "held-out", seed=1, **QUIET)  # the mean pose's score, computed apart
    prior = rot6d_to_matrix(start.reshape(24, 6)).expand(len(held_out.pose), -1, -1, -1)
    truth = body_points(body, axis_angle_to_matrix(held_out.pose), held_out.betas)[1]
    mean_pose = pa_mpjpe(body_points(body, prior, weights["init_shape"].expand(len(prior), -1))[1], truth).mean()
    assert info["mean_pose_pa_mpjpe"] == pytest.approx(float(mean_pose), abs=0.01)
    mtime = path.stat().st_mtime_ns
    messages = []
    torch.manual_seed(7)
    assert stand_in_spin(cfg, body, torch.device("cpu"), log=messages.append) == path
    assert path.stat().st_mtime_ns == mtime and "held-out PA-MPJPE" in messages[0]  # read, not retrained
    assert torch.equal(torch.rand(3), after_building)  # building or reading, the caller's RNG goes on alike
    for key, value in (("stand_in_spin.lr", 1e-4), ("stand_in_spin.seed", 1), ("stand_in_spin.lr_milestones", [3]),
                       ("stand_in_spin.gap_share", 0.1)):
        assert stand_in_spin_path(_cfg(tiny_body_dir, tmp_path, **{key: value}), body) != path  # another build


def test_the_rate_is_divided_by_ten_at_each_milestone(body, tiny_body_dir, tmp_path):
    cfg = _cfg(tiny_body_dir, tmp_path, **{"stand_in_spin.lr_milestones": [1, 3], "stand_in_spin.patience": 10})
    path = stand_in_spin(cfg, body, torch.device("cpu"), **QUIET)
    history = json.loads(path.with_suffix(".json").read_text())["history"]
    lr = 3e-4  # the tiny backbone's rate (stand_in_spin.lr unset)
    assert [h["step"] for h in history] == [1, 2, 3, 4]
    assert [h["lr"] for h in history] == pytest.approx([lr, lr / 10, lr / 10, lr / 100])


def test_an_unset_rate_is_the_backbones_and_builds_the_same_stand_in(body, tiny_body_dir, tmp_path):
    def cfg(**extra):
        return _cfg(tiny_body_dir, tmp_path, **extra)

    assert cfg().stand_in_spin.lr is None and build_lr(cfg()) == 3e-4
    assert stand_in_spin_path(cfg(), body) == stand_in_spin_path(cfg(**{"stand_in_spin.lr": 3e-4}), body)
    resnet = {"mocap_spin.backbone": "resnet18"}
    assert build_lr(cfg(**resnet)) == 1e-4 and build_lr(cfg(**resnet, **{"stand_in_spin.lr": 2e-4})) == 2e-4
    assert stand_in_spin_path(cfg(**resnet), body) == stand_in_spin_path(cfg(**resnet, **{"stand_in_spin.lr": 1e-4}),
                                                                         body)
    with pytest.raises(MocapHMRError, match="stand_in_spin.lr"):
        cfg(**{"stand_in_spin.lr": -1})


def test_patience_counts_only_at_the_final_rate(body, tiny_body_dir, tmp_path, monkeypatch):
    scores = iter([50.0] + [10.0 + step for step in range(8)])  # the mean pose's, then every step worse
    monkeypatch.setattr("mocap_hmr.training.stand_in_spin.pa_mpjpe_of", lambda *args: next(scores))
    cfg = _cfg(tiny_body_dir, tmp_path, **{"stand_in_spin.lr_milestones": [3], "stand_in_spin.max_steps": 8})
    info = json.loads(stand_in_spin(cfg, body, torch.device("cpu"), **QUIET).with_suffix(".json").read_text())
    assert [h["step"] for h in info["history"]] == [1, 2, 3, 4]  # one score (patience 1) past the milestone
    assert info["step"] == 1 and info["pa_mpjpe"] == 10.0


def test_a_diverging_stand_in_stops_with_the_key_to_change(body, tiny_body_dir, tmp_path):
    cfg = _cfg(tiny_body_dir, tmp_path, **{"stand_in_spin.lr": 1e6})
    with pytest.raises(MocapHMRError, match=r"stand-in SPIN: .*lower stand_in_spin.lr \(now 1e\+06\)"):
        stand_in_spin(cfg, body, torch.device("cpu"), **QUIET)
    assert not stand_in_spin_path(cfg, body).exists()  # nothing cached


def test_diverged_weights_score_infinity_instead_of_failing(body):
    from mocap_hmr.evaluation.scoring import body_points
    from mocap_hmr.models.hmr import HMR
    from mocap_hmr.training.stand_in_spin import pa_mpjpe_of

    model = HMR("tiny")
    with torch.no_grad():
        model.decpose.bias.fill_(float("nan"))
    truth = body_points(body, torch.eye(3).expand(2, 24, 3, 3), torch.zeros(2, 10))[1]
    assert pa_mpjpe_of(model, body, torch.zeros(2, 3, SIZE, SIZE), truth, torch.device("cpu")) == math.inf


def test_the_main_job_fine_tunes_the_stand_in_unless_told_otherwise(body, tiny_body_dir, tmp_path):
    cfg = _cfg(tiny_body_dir, tmp_path)
    started = with_starting_model(cfg, body, torch.device("cpu"), **QUIET)
    assert started.mocap_spin.checkpoint == str(stand_in_spin_path(cfg, body))
    given = _cfg(tiny_body_dir, tmp_path, **{"mocap_spin.checkpoint": "/some/spin.pt"})
    assert with_starting_model(given, body, torch.device("cpu"), **QUIET).mocap_spin.checkpoint == "/some/spin.pt"
    scratch = _cfg(tiny_body_dir, tmp_path, **{"stand_in_spin.enabled": "false"})
    assert with_starting_model(scratch, body, torch.device("cpu"), **QUIET).mocap_spin.checkpoint is None


def test_the_real_half_is_the_stand_ins_own_training_crops(body, tiny_body_dir, tmp_path):
    cfg = _cfg(tiny_body_dir, tmp_path, **{"stand_in_spin.seed": 1})
    _, real = build_streams(cfg, body, torch.device("cpu"), **QUIET)
    torch.testing.assert_close(real.crops.images, real_domain_set(body, SIZE, 32, "train", seed=1, **QUIET).images)
    assert not torch.equal(real.crops.images, real_domain_set(body, SIZE, 32, "train", seed=0, **QUIET).images)
