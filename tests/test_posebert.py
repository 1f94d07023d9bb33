"""PoseBERT: the release's exact parameters and forward pass, the paper's variant and its
ablations, attention that never looks at masked frames, checkpoints of every layout with
readable errors, and sequence refinement (batched windows equal one pass per frame)."""

import copy
import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from mocap_hmr.errors import InputShapeError, MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_rot6d, rot6d_to_matrix
from mocap_hmr.models.checkpoints import CheckpointError, load_weights
from mocap_hmr.models.posebert import (
    CHECKPOINT_FORMAT,
    build_posebert,
    config_from_state_dict,
    load_posebert,
    mean_pose_6d,
    save_posebert,
)
from mocap_hmr.refinement import refine

# The key/shape list of the released checkpoints (posebert_smpl.pt), as published.
RELEASED = {k: tuple(v) for k, v in json.loads(
    (Path(__file__).parent / "data" / "official_posebert_state_dict.json").read_text()).items()}
TINY = {"dim": 32, "depth": 2, "heads": 2, "hidden": 24}


def random_state_dict(shapes, seed=0, shared_regressor=False):
    """Random tensors of the given shapes (unit-scale norms); the regressor copies of blocks
    1... equal block 0's when ``shared_regressor``."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for key, shape in shapes.items():
        out[key] = (1 + 0.1 * torch.randn(shape, generator=gen)) if key.endswith("norm.weight") else \
            0.2 * torch.randn(shape, generator=gen)
    if shared_regressor:
        for key in out:
            if key.startswith("decoder.layers.") and key.split(".")[3] == "2":
                out[key] = out["decoder.layers.0." + key.split(".", 3)[3]]
    return out


def randomized(model, seed=0, scale=0.1):
    """``model`` with every weight moved off its initial value (incl. the zero last regressor layer)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))
    return model.eval()


def random_rotations(*shape, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return axis_angle_to_matrix(0.5 * torch.randn(*shape, 24, 3, generator=gen))


def reference_released_forward(sd, rotmat, observed, heads):
    """The release's forward pass written out op by op from its state dict (no module of ours)."""
    def linear(x, name):
        return x @ sd[name + ".weight"].T + (sd[name + ".bias"] if name + ".bias" in sd else 0)

    def norm(x, name):
        return F.layer_norm(x, x.shape[-1:], sd[name + ".weight"], sd[name + ".bias"])

    b, t = rotmat.shape[:2]
    x = linear(rotmat[..., :2].flatten(2), "emb")
    m = observed.float()[..., None]
    x = x * m + sd["mask_token"] * (1 - m)
    x = x + sd["pos.pe"][:, :t]
    y = sd["init_pose"].repeat(b, t, 1)
    depth = len({k.split(".")[2] for k in sd if k.startswith("decoder.layers.")})
    for i in range(depth):
        p = f"decoder.layers.{i}"
        q, k, v = linear(norm(x, p + ".0.norm"), p + ".0.fn.to_qkv").chunk(3, -1)
        q, k, v = (z.reshape(b, t, heads, -1).transpose(1, 2) for z in (q, k, v))
        dots = q @ k.transpose(-1, -2) * q.shape[-1] ** -0.5
        dots = dots.masked_fill(~observed[:, None, None, :], -torch.finfo(dots.dtype).max)
        attn = (dots.softmax(-1) @ v).transpose(1, 2).reshape(b, t, -1)
        x = x + linear(attn, p + ".0.fn.to_out.0")
        x = x + linear(F.gelu(linear(norm(x, p + ".1.norm"), p + ".1.fn.net.0")), p + ".1.fn.net.3")
        h = torch.cat([norm(x, p + ".2.norm"), y], -1)
        y = y + linear(F.gelu(linear(h, p + ".2.fn.net.0")), p + ".2.fn.net.3")
    cols = y.reshape(b, t, 24, 3, 2)
    b1 = F.normalize(cols[..., 0], dim=-1)
    b2 = F.normalize(cols[..., 1] - (b1 * cols[..., 1]).sum(-1, keepdim=True) * b1, dim=-1)
    return torch.stack([b1, b2, torch.cross(b1, b2, dim=-1)], -1)


# --- the released architecture ---------------------------------------------------------------------------------


def test_released_keys_shapes_and_parameter_count():
    model = build_posebert("released")
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == RELEASED
    assert list(model.state_dict()) == list(RELEASED)
    assert sum(p.numel() for p in model.parameters()) == 7_316_112  # shared regressor counted once


def test_strict_load_of_a_released_state_dict_and_forward():
    sd = random_state_dict(RELEASED, shared_regressor=True)
    model = build_posebert("released")
    model.load_state_dict(sd, strict=True)
    model.eval()
    observed = torch.ones(2, 20, dtype=torch.bool)
    observed[0, 3:6] = False
    out = model(random_rotations(2, 20), observed)
    assert out.rotmat.shape == (2, 20, 24, 3, 3) and out.rot6d.shape == (2, 20, 24, 6)
    assert torch.isfinite(out.rotmat).all()


def test_released_forward_matches_the_release_op_by_op():
    config = {**TINY, "share_regressor": False, "max_len": 40}
    model = build_posebert("released", **config).double().eval()  # float64: only the order of operations differs
    sd = {k: v.double() for k, v in random_state_dict({k: v.shape for k, v in model.state_dict().items()}, 1).items()}
    model.load_state_dict(sd, strict=True)
    rotmat = random_rotations(3, 12, seed=2).double()
    observed = torch.rand(3, 12, generator=torch.Generator().manual_seed(3)) > 0.3
    observed[2] = False  # a window with nothing observed: uniform attention, as in the release
    expected = reference_released_forward(sd, rotmat, observed, heads=TINY["heads"])
    with torch.no_grad():
        got = model(rotmat, observed).rotmat
    torch.testing.assert_close(got, expected, atol=1e-10, rtol=0)


# --- the paper's variant and its ablations ---------------------------------------------------------------------


ABLATIONS = [
    {},
    {"share_regressor": False},
    {"regressor_iterations": 3},
    {"positional_encoding": "none"},
    {"positional_encoding": "every_block"},
    {"regressor": "top", "feed_forward": True},
    {"feed_forward": True},
    {"depth": 1, "heads": 4, "max_len": 8},
]


@pytest.mark.parametrize("ablation", ABLATIONS)
def test_shapes_and_mean_pose_at_initialisation(ablation):
    mean = mean_pose_6d(0.3 * torch.randn(50, 24, 3))
    model = build_posebert("paper", **{**TINY, **ablation}, init_pose=mean).eval()
    rotmat = random_rotations(2, 8)
    for poses in (rotmat, matrix_to_rot6d(rotmat)):
        out = model(poses, torch.rand(2, 8) > 0.2)
        assert out.rotmat.shape == (2, 8, 24, 3, 3) and out.rot6d.shape == (2, 8, 24, 6)
        torch.testing.assert_close(out.rot6d, mean.reshape(1, 1, 24, 6).expand(2, 8, 24, 6), atol=0, rtol=0)
        torch.testing.assert_close(out.rotmat, rot6d_to_matrix(mean.reshape(24, 6)).expand(2, 8, 24, 3, 3))


def test_ablation_structure():
    def count(**kw):
        return sum(p.numel() for p in build_posebert("paper", **{**TINY, **kw}).parameters())

    keys = build_posebert("paper", **TINY).state_dict()
    assert "decoder.layers.1.1.fn.net.0.weight" in keys and "decoder.layers.0.2.norm.weight" not in keys  # no FFN
    assert tuple(keys["decoder.layers.0.1.fn.net.0.weight"].shape) == (24, 32 + 144)
    assert tuple(keys["pos.pe"].shape) == (1, 16, 32)
    regressor = (32 + 144) * 24 + 24 + 24 * 144 + 144 + 2 * 32
    assert count(share_regressor=False) - count() == regressor  # one more copy for the second block
    assert count(positional_encoding="none") == count() - 16 * 32
    top = build_posebert("paper", **TINY, regressor="top", feed_forward=True).state_dict()
    assert "decoder.regressor.fn.net.3.weight" in top and "decoder.layers.1.2.norm.weight" not in top
    with pytest.raises(InputShapeError, match="longer than the model's 16 positions"):
        build_posebert("paper", **TINY)(random_rotations(1, 17))
    build_posebert("paper", **TINY, positional_encoding="none")(random_rotations(1, 17))
    with pytest.raises(MocapHMRError, match="unknown PoseBERT option.*layers.*accepted: max_len"):
        build_posebert("paper", layers=3)
    with pytest.raises(MocapHMRError, match="variant 'big' is not one of paper, released"):
        build_posebert("big")
    with pytest.raises(InputShapeError, match=r"poses has shape \(2, 8, 72\); PoseBERT takes"):
        build_posebert("paper", **TINY)(torch.zeros(2, 8, 72))


def test_start_from_the_input_refines_the_input():
    """start="input": an untrained model returns every observed frame's input and, for an
    unobserved one, the input of its nearest observed frame (the earlier on a tie)."""
    model = build_posebert("paper", **TINY, start="input").eval()
    rotmat = random_rotations(2, 8, seed=3)
    observed = torch.ones(2, 8, dtype=torch.bool)
    observed[0, [0, 3, 4, 7]] = False  # frame 0 <- 1, 3 <- 2, 4 <- 5, 7 <- 6
    with torch.no_grad():
        out = model(rotmat, observed).rotmat
        blind = model(rotmat, torch.zeros(2, 8, dtype=torch.bool)).rotmat
    source = torch.tensor([[1, 1, 2, 2, 5, 5, 6, 6], list(range(8))])
    expected = rot6d_to_matrix(matrix_to_rot6d(rotmat[torch.arange(2)[:, None], source]))
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(blind, rot6d_to_matrix(model.init_pose.reshape(24, 6)).expand_as(blind))
    with pytest.raises(MocapHMRError, match="start='last' is not one of mean, input, smoothed"):
        build_posebert("paper", **TINY, start="last")


def test_start_smoothed_is_a_gaussian_mean_of_the_observed_inputs():
    sigma = 1.5
    model = build_posebert("paper", **TINY, start="smoothed", start_sigma=sigma).eval()
    rot6d = matrix_to_rot6d(random_rotations(1, 12, seed=4)).double()
    observed = torch.ones(1, 12, dtype=torch.bool)
    observed[0, [2, 3, 9]] = False
    with torch.no_grad():
        out = model.double()(rot6d, observed).rotmat
    frames = torch.arange(12, dtype=torch.float64)
    expected = []
    for t in range(12):
        near = observed[0] & ((frames - t).abs() <= 4)  # 3 sigma, whole frames
        w = torch.exp(-0.5 * ((frames[near] - t) / sigma) ** 2)
        expected.append((w[:, None, None] * rot6d[0, near]).sum(0) / w.sum())
    torch.testing.assert_close(out[0], rot6d_to_matrix(torch.stack(expected)))


@pytest.mark.parametrize("start", ["mean", "input", "smoothed"])
def test_canonical_root_makes_the_model_equivariant_to_global_orientation(start):
    model = randomized(build_posebert("paper", **TINY, start=start, canonical_root=True), seed=2).eval()
    rotmat = random_rotations(3, 8, seed=6).double()
    observed = torch.rand(3, 8, generator=torch.Generator().manual_seed(1)) > 0.3
    turn = axis_angle_to_matrix(torch.randn(3, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(9)))
    turned = rotmat.clone()
    turned[:, :, 0] = turn[:, None] @ rotmat[:, :, 0]
    model = model.double()
    with torch.no_grad():
        out, out_turned = model(rotmat, observed).rotmat, model(turned, observed).rotmat
    torch.testing.assert_close(out_turned[:, :, 1:], out[:, :, 1:])
    torch.testing.assert_close(out_turned[:, :, 0], turn[:, None] @ out[:, :, 0])
    plain = randomized(build_posebert("paper", **TINY, start=start), seed=2).eval().double()
    with torch.no_grad():
        assert not torch.allclose(plain(turned, observed).rotmat[:, :, 1:], plain(rotmat, observed).rotmat[:, :, 1:])


def test_masked_frames_are_never_attention_keys():
    model = randomized(build_posebert("paper", **TINY, regressor="top", feed_forward=True), seed=4)
    poses = matrix_to_rot6d(random_rotations(2, 10, seed=5))
    observed = torch.ones(2, 10, dtype=torch.bool)
    observed[0, [1, 4, 5]] = False
    observed[1, 9] = False
    with torch.no_grad():
        before = model(poses, observed).rotmat
        noisy = torch.where(observed[..., None, None], poses, torch.full_like(poses, float("nan")))
        torch.testing.assert_close(model(noisy, observed).rotmat, before, atol=0, rtol=0)  # inputs never enter
        model.mask_token.add_(torch.randn(model.mask_token.shape))  # what masked frames carry through the blocks
        after = model(poses, observed).rotmat
    torch.testing.assert_close(after[observed], before[observed], atol=1e-6, rtol=0)  # exactly zero weight
    assert (after[~observed] - before[~observed]).abs().amax() > 1e-3  # but they query: their outputs change
    with torch.no_grad():
        blind = model(poses, torch.zeros(2, 10, dtype=torch.bool)).rotmat
    assert torch.isfinite(blind).all()


# --- checkpoints -------------------------------------------------------------------------------------------------


def test_save_and_load_our_format(tmp_path):
    model = randomized(build_posebert("paper", **TINY, regressor_iterations=2, init_pose=mean_pose_6d(
        0.3 * torch.randn(20, 24, 3))))
    path = tmp_path / "posebert.pt"
    save_posebert(model, path)
    saved = torch.load(path, weights_only=True)
    assert saved["format"] == CHECKPOINT_FORMAT and saved["variant"] == "paper"
    assert saved["config"] == {**model.config} and saved["config"]["regressor_iterations"] == 2
    loaded = load_posebert(path)
    assert not loaded.training and loaded.config == model.config
    poses = random_rotations(2, 16)
    torch.testing.assert_close(loaded(poses).rotmat, model(poses).rotmat, atol=0, rtol=0)
    with pytest.raises(CheckpointError, match="does not fit PoseBERT.*shape mismatches: pos.pe"):
        save_posebert(model, tmp_path / "other.pt", {**model.config, "max_len": 32})
    assert not (tmp_path / "other.pt").exists()
    torch.save({**saved, "config": {**saved["config"], "n_layers": 4}}, tmp_path / "newer.pt")
    with pytest.raises(CheckpointError, match="newer.pt: unknown PoseBERT option.*n_layers"):
        load_posebert(tmp_path / "newer.pt")


@pytest.mark.parametrize("layout", ["model_state_dict", "bare"])
def test_load_the_release_and_bare_state_dicts(tmp_path, layout):
    model = build_posebert("released", **TINY, max_len=64, share_regressor=False)
    sd = random_state_dict({k: v.shape for k, v in model.state_dict().items()}, seed=6)
    path = tmp_path / "posebert_smpl.pt"
    torch.save({"model_state_dict": sd, "epoch": 10} if layout != "bare" else sd, path)
    loaded = load_posebert(path)
    assert loaded.variant == "released"
    assert loaded.config == {**model.config, "heads": 1}  # a state dict does not store heads: 64 channels each
    for key, value in loaded.state_dict().items():
        assert torch.equal(value, sd[key]), key  # each block keeps its own regressor copy
    shared = random_state_dict(RELEASED, shared_regressor=True)
    assert config_from_state_dict(shared, "x") == build_posebert("released").config


def test_foreign_checkpoints_name_the_keys_that_differ(tmp_path):
    paper = build_posebert("paper", **TINY).state_dict()
    with pytest.raises(CheckpointError, match=r"ckpt.pt does not fit PoseBERT: \d+ missing: decoder.layers.0.2.norm"
                                              r".*shape mismatches: mask_token: checkpoint \(1, 1, 32\) "
                                              r"vs model \(1, 1, 512\)"):
        load_weights(build_posebert("released"), paper, "ckpt.pt")
    spin = {"conv1.weight": torch.zeros(64, 3, 7, 7), "fc1.weight": torch.zeros(1024, 2205)}
    torch.save({"model": spin}, tmp_path / "spin.pt")
    with pytest.raises(CheckpointError, match=r"spin.pt does not fit PoseBERT: 73 missing: mask_token, init_pose, "
                                              r"pos.pe.*2 unexpected: conv1.weight, fc1.weight"):
        load_posebert(tmp_path / "spin.pt")
    good = tmp_path / "good.pt"
    save_posebert(build_posebert("paper", **TINY), good)
    (tmp_path / "cut.pt").write_bytes(good.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="cut.pt: cannot be read as a PyTorch checkpoint"):
        load_posebert(tmp_path / "cut.pt")
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    with pytest.raises(CheckpointError, match="tensor.pt: holds a Tensor, not a PoseBERT checkpoint"):
        load_posebert(tmp_path / "tensor.pt")


# --- refinement of whole sequences ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model():
    return randomized(build_posebert("paper", **TINY, max_len=8), seed=7)


def one_pass_per_frame(model, rotmat, observed, window, mode, stride=1):
    """Refinement the way naver/posebert's demo runs it: one forward pass for every frame, its
    window chosen by the demo's rule (offline; with stride > 1 the start is rounded to the nearest
    multiple of stride, halves up) or ending at the frame (online)."""
    n = len(rotmat)
    out = []
    for t in range(n):
        if mode == "online":
            start = t - window + 1
        else:  # the demo's rule; a sequence shorter than the window starts at 0 and is padded
            start = max(0, 0 if t < window // 2 else min(n, t + window // 2) - window)
            if start == t - window // 2:  # inside the sequence: round to the stride
                start = min(max(0, stride * math.floor((t - window // 2) / stride + 0.5)), max(n - window, 0))
        index = torch.arange(start, start + window)
        inside = (index >= 0) & (index < n)
        index = index.clamp(0, n - 1)
        with torch.no_grad():
            refined = model(rotmat[index][None], (observed[index] & inside)[None]).rotmat[0]
        out.append(refined[t - start])
    return torch.stack(out)


@pytest.mark.parametrize("mode,stride", [("offline", 1), ("offline", 2), ("offline", 3), ("offline", 8),
                                         ("online", None)])
@pytest.mark.parametrize("n", [37, 5])
def test_batched_windows_equal_one_pass_per_frame(model, mode, stride, n):
    rotmat = random_rotations(n, seed=8)
    mask = torch.rand(n, generator=torch.Generator().manual_seed(9)) > 0.2
    got = refine(rotmat, model, mask=mask, mode=mode, stride=stride, batch_size=6)
    expected = one_pass_per_frame(model, rotmat, mask, 8, mode, stride or 1)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)


def test_default_stride_is_a_quarter_window(model):
    rotmat = random_rotations(37, seed=8)
    torch.testing.assert_close(refine(rotmat, model), refine(rotmat, model, stride=2))
    with pytest.raises(MocapHMRError, match="stride=9: offline windows are 1 to 8"):
        refine(rotmat, model, stride=9)


def test_online_output_depends_only_on_the_past(model):
    rotmat = random_rotations(30, seed=10)
    changed = rotmat.clone()
    changed[18:] = random_rotations(12, seed=11)
    a, b = refine(rotmat, model, mode="online"), refine(changed, model, mode="online")
    torch.testing.assert_close(a[:18], b[:18], atol=1e-6, rtol=0)
    assert (a[18:] - b[18:]).abs().amax() > 1e-3
    offline = refine(changed, model)
    assert (offline[:18] - refine(rotmat, model)[:18]).abs().amax() > 1e-3  # offline looks ahead


def test_nan_frames_and_blind_windows_are_filled(model):
    axis_angle = 0.4 * torch.randn(40, 72, generator=torch.Generator().manual_seed(12))
    axis_angle[[3, 4, 20]] = float("nan")
    axis_angle[30, 7] = float("inf")
    mask = torch.ones(40, dtype=torch.bool)
    mask[8:20] = False  # longer than the window: some windows see nothing
    for mode in ("offline", "online"):
        out = refine(axis_angle, model, mask=mask, mode=mode)
        assert out.shape == (40, 24, 3, 3) and torch.isfinite(out).all()
        torch.testing.assert_close(out @ out.transpose(-1, -2), torch.eye(3).expand_as(out), atol=1e-5, rtol=0)
    mean = rot6d_to_matrix(model.init_pose.reshape(24, 6))
    torch.testing.assert_close(refine(axis_angle, model, mask=mask)[13], mean)  # window 10..17: nothing observed
    as_aa3 = refine(axis_angle.reshape(40, 24, 3), model, mask=mask)
    torch.testing.assert_close(as_aa3, refine(axis_angle, model, mask=mask))


def test_refine_short_sequences_inputs_and_mode(model):
    training = copy.deepcopy(model).train()
    out = refine(random_rotations(3).numpy(), training)
    assert out.shape == (3, 24, 3, 3) and torch.isfinite(out).all()
    torch.testing.assert_close(out, refine(random_rotations(3), model))  # dropout off while refining
    assert training.training  # its mode is given back
    assert refine(torch.zeros(0, 72), model).shape == (0, 24, 3, 3)
    with pytest.raises(InputShapeError, match=r"poses has shape \(4, 63\); refine takes"):
        refine(torch.zeros(4, 63), model)
    with pytest.raises(InputShapeError, match=r"mask has shape \(3,\); expected \(4,\)"):
        refine(torch.zeros(4, 72), model, mask=torch.ones(3, dtype=torch.bool))
    with pytest.raises(MocapHMRError, match="mode 'causal' is not one of offline, online"):
        refine(torch.zeros(4, 72), model, mode="causal")
