"""Pose, sequence, camera and crop samplers: reproducible, in bounds, with the documented
statistics and composition."""

import math

import numpy as np
import pytest
import torch
from amass_files import write_amass

from mocap_hmr.body import SMPL_JOINT_NAMES
from mocap_hmr.data.motion_index import build_index, load_index
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry.cameras import tait_bryan
from samplers import CameraSampler, CropSampler, PoseSampler, SequenceSampler
from samplers.crops import FULL, TO_HIPS, TO_KNEES, UPPER_TO_HIPS


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    rng = np.random.default_rng(0)
    for name, n_frames in (("a", 401), ("b", 241), ("c", 41)):  # 101, 61, 11 frames at 30 fps
        poses = rng.normal(scale=0.3, size=(n_frames, 156))
        poses[:, 0] = math.pi / 2
        if name == "b":
            poses[100:200] = poses[100]  # a held pose
        write_amass(root / f"{name}.npz", n_frames=n_frames, poses=poses, betas=np.full(16, ord(name) / 100))
    out = root / "index.npz"
    build_index(root, out, log=lambda m: None)
    return load_index(out)


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_pose_sampler(index):
    sampler = PoseSampler(index)
    a, b = sampler.sample(512, gen()), sampler.sample(512, gen())
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert a["pose"].shape == (512, 24, 3) and a["betas"].shape == (512, 10) and a["trans"].shape == (512, 3)
    torch.testing.assert_close(a["pose"], index.poses[a["frame"]])
    torch.testing.assert_close(a["betas"], index.betas[index.frame_sequence()[a["frame"]]])
    assert not torch.equal(a["frame"], sampler.sample(512, gen(1))["frame"])


def test_pose_sampler_skips_held_frames(index):
    full, dedup = PoseSampler(index), PoseSampler(index, min_change=1e-4)
    # sequence b holds one pose over source frames 100..199 = 25 frames at 30 fps (26..50)
    held = set(range(int(index.offsets[1]) + 26, int(index.offsets[1]) + 50))
    assert held <= set(full.frames.tolist()) and not held & set(dedup.frames.tolist())
    assert len(dedup) == len(full) - len(held)


def test_sequence_windows_are_contiguous(index):
    sampler = SequenceSampler(index, window=16, noise_std=0.0, masked_frames=0)
    batch = sampler.sample(256, gen())
    frames = batch["start"][:, None] + torch.arange(16)
    torch.testing.assert_close(batch["poses"], index.poses[frames])
    torch.testing.assert_close(batch["inputs"], batch["poses"])
    seq = batch["sequence"]
    assert (batch["start"] >= index.offsets[seq]).all() and (frames[:, -1] < index.offsets[seq + 1]).all()
    assert sampler.excluded == 1  # sequence c (11 frames) is shorter than 16
    assert set(seq.tolist()) == {0, 1} and batch["observed"].all()


def test_sequence_fps_and_errors(index):
    batch = SequenceSampler(index, window=8, fps=15, noise_std=0.0).sample(64, gen())
    frames = batch["start"][:, None] + 2 * torch.arange(8)
    torch.testing.assert_close(batch["poses"], index.poses[frames])
    with pytest.raises(MocapHMRError, match="fps=20: must divide the index's 30 fps"):
        SequenceSampler(index, fps=20)
    with pytest.raises(MocapHMRError, match=r"no sequence .* long enough for a window of 64 frames.*longest has 101"):
        SequenceSampler(index, window=64, fps=15)
    with pytest.raises(MocapHMRError, match="mask_mode 'random' is not one of"):
        SequenceSampler(index, mask_mode="random")


def test_bernoulli_masking_and_noise_statistics(index):
    batch = SequenceSampler(index, window=16, masked_frames=2, noise_std=0.05).sample(20000, gen())
    hidden_per_window = (~batch["observed"]).sum(1).float()
    assert hidden_per_window.mean().item() == pytest.approx(2.0, abs=0.05)
    noise = batch["inputs"] - batch["poses"]
    assert noise.std().item() == pytest.approx(0.05, rel=0.01) and abs(noise.mean().item()) < 1e-3


def test_span_masking_and_never_all_hidden(index):
    observed = SequenceSampler(index, window=16, masked_frames=4, mask_mode="span").sample(2000, gen())["observed"]
    hidden = ~observed
    assert (hidden.sum(1) == 4).all()
    first = hidden.float().argmax(1)
    expected = (torch.arange(16) >= first[:, None]) & (torch.arange(16) < first[:, None] + 4)
    assert torch.equal(hidden, expected)
    everything = SequenceSampler(index, window=16, masked_frames=16).sample(500, gen())["observed"]
    assert (everything.sum(1) == 1).all()


def test_random_replacements(index):
    sampler = SequenceSampler(index, window=16, noise_std=0.0, random_pose=0.1)
    batch = sampler.sample(4000, gen())
    replaced = (batch["inputs"] != batch["poses"]).any(-1).any(-1).float().mean().item()
    assert replaced == pytest.approx(0.1, abs=0.01)
    batch = SequenceSampler(index, window=16, noise_std=0.0, random_joint=0.05).sample(4000, gen())
    replaced = (batch["inputs"] != batch["poses"]).any(-1).float().mean().item()
    assert replaced == pytest.approx(0.05, abs=0.005)


def test_camera_angles_in_bounds_and_uniform():
    cams = CameraSampler(yaw=180, pitch=45, roll=15).sample(100_000, generator=gen())
    for name, limit in (("yaw", 180), ("pitch", 45), ("roll", 15)):
        angle = cams[name] / math.radians(limit)  # U(-1, 1)
        assert angle.abs().max() <= 1
        counts = torch.histc(angle, bins=10, min=-1, max=1)
        # each bin holds 10,000 +- 5 sigma (sigma = sqrt(10,000 * 0.9) = 95)
        assert (counts - 10_000).abs().max() < 5 * 95, counts
    assert 1.0 <= cams["focal"].min() and cams["focal"].max() <= 3.0


def test_camera_sampler_rotations_are_its_angles():
    cams = CameraSampler().sample(50, generator=gen(3))
    torch.testing.assert_close(cams["R"], tait_bryan(cams["yaw"], cams["pitch"], cams["roll"]))


def _standing_joints(n):
    from mocap_hmr.body.tiny_body import tiny_rest_joints

    rest = torch.from_numpy(tiny_rest_joints()).float()
    xy = rest[:, :2] * torch.tensor([30.0, -100.0]) + 200  # pixels, y down, arms squeezed in
    return xy.expand(n, -1, -1)


def test_crops_upper_body_fraction_and_containment():
    joints = _standing_joints(20000)
    crops = CropSampler().sample(joints, gen())
    kind = crops["kind"]
    assert (kind != FULL).float().mean().item() == pytest.approx(0.2, abs=0.01)
    assert (kind == TO_HIPS).float().mean().item() == pytest.approx(0.1, abs=0.01)
    assert (kind == TO_KNEES).float().mean().item() == pytest.approx(0.1, abs=0.01)
    lo = crops["centre"] - crops["size"][:, None] / 2
    hi = crops["centre"] + crops["size"][:, None] / 2
    full = kind == FULL
    inside = ((joints >= lo[:, None]) & (joints <= hi[:, None])).all(-1)  # (n, 24)
    assert inside[full].all()
    hips = kind == TO_HIPS
    assert inside[hips][:, list(UPPER_TO_HIPS)].all()
    assert crops["size"][hips].max() < crops["size"][full].min()
    ankle = SMPL_JOINT_NAMES.index("left_ankle")
    assert not inside[hips][:, ankle].any()


def test_crops_are_reproducible():
    joints = _standing_joints(100)
    a, b = CropSampler().sample(joints, gen(5)), CropSampler().sample(joints, gen(5))
    assert all(torch.equal(a[k], b[k]) for k in a)
