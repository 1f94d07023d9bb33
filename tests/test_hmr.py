"""HMR: SPIN's exact parameter names and shapes, strict loading of every checkpoint layout,
readable mismatch errors, trainable subsets, and BN-only steps touching only BN."""

import json

import pytest
import torch

from mocap_hmr.choices import TRAINABLE as MODES
from mocap_hmr.models.checkpoints import CheckpointError, load_weights, read_checkpoint, state_dict_of
from mocap_hmr.models.finetune import select_trainable, trainable_parameters
from mocap_hmr.models.hmr import HMR


@pytest.fixture(scope="module")
def spin_shapes():
    from pathlib import Path

    path = Path(__file__).parent / "data" / "spin_hmr_state_dict.json"
    return json.loads(path.read_text())


def random_state_dict(shapes, seed=0):
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for key, shape in shapes.items():
        if key.endswith("num_batches_tracked"):
            out[key] = torch.tensor(1000)
        elif key.endswith("running_var"):
            out[key] = torch.rand(shape, generator=gen) + 0.5
        else:
            out[key] = torch.randn(shape, generator=gen) * 0.01
    return out


@pytest.mark.parametrize("layout", ["model", "state_dict", "bare"])
def test_strict_load_of_spin_checkpoints(tmp_path, spin_shapes, layout):
    sd = random_state_dict(spin_shapes)
    path = tmp_path / "model_checkpoint.pt"
    torch.save(sd if layout == "bare" else {layout: sd, "epoch": 3}, path)
    model = HMR("resnet50")
    load_weights(model, state_dict_of(read_checkpoint(path), str(path)), str(path))
    for key, value in model.state_dict().items():
        assert torch.equal(value, sd[key]), key
    model.eval()
    out = model(torch.randn(1, 3, 224, 224))
    assert out.rotmat.shape == (1, 24, 3, 3) and out.betas.shape == (1, 10) and out.camera.shape == (1, 3)
    assert sum(p.numel() for p in model.parameters()) == 26_977_501


def test_mismatch_names_keys_and_shapes(tmp_path, spin_shapes):
    sd = random_state_dict(spin_shapes)
    expected = (r"ckpt.pt does not fit HMR: 198 unexpected: layer1.0.conv3.weight.*shape mismatches: "
                r"layer1.0.conv1.weight: checkpoint \(64, 64, 1, 1\) vs model \(64, 64, 3, 3\)")
    with pytest.raises(CheckpointError, match=expected):
        load_weights(HMR("resnet18"), sd, "ckpt.pt")
    with pytest.raises(CheckpointError, match=r"1 unexpected: extra.weight"):
        load_weights(HMR("resnet50"), {**sd, "extra.weight": torch.zeros(1)}, "ckpt.pt")
    bad = tmp_path / "cut.pt"
    good = tmp_path / "good.pt"
    torch.save({"model": sd}, good)
    bad.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(CheckpointError, match="cut.pt: cannot be read as a PyTorch checkpoint"):
        read_checkpoint(bad)
    with pytest.raises(CheckpointError, match="no weights found"):
        state_dict_of({"epoch": 3, "optimizer": {}}, "x.pt")


def test_bn_only_counts_and_modes():
    model = HMR("resnet50")
    assert select_trainable(model, "bn") == 53_120
    assert select_trainable(model, "all") == 26_977_501
    counts = {mode: select_trainable(model, mode) for mode in MODES}
    assert counts["regressor+last-1"] < counts["regressor+last-2"] < counts["regressor+last-4"] < counts["all"]
    assert counts["all-but-bn"] + counts["bn"] == counts["all"]


def test_bn_only_steps_change_only_batch_norm():
    torch.manual_seed(0)
    model = HMR("tiny")
    select_trainable(model, "bn")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.Adam(trainable_parameters(model), lr=1e-2)
    model.train()
    for _ in range(2):
        out = model(torch.randn(4, 3, 64, 64))
        loss = (out.pose6d ** 2).mean() + (out.camera ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert len(optimizer.state) == len(trainable_parameters(model))  # no state for frozen ones
    for key, value in model.state_dict().items():
        is_bn = any(f".{n}" in f".{key}" for n in ("bn1.", "bn2.", "bn3.", "downsample.1.")) or key.startswith("bn1.")
        if is_bn and not key.endswith("num_batches_tracked"):
            assert not torch.equal(value, before[key]), f"{key} did not change"
        elif not is_bn:
            assert torch.equal(value, before[key]), f"{key} changed"


def test_bn_stats_trains_nothing_and_moves_the_statistics_by_the_momentum():
    torch.manual_seed(0)
    model = HMR("tiny")
    assert select_trainable(model, "bn-stats") == 0 and trainable_parameters(model) == []
    seen = []
    model.bn1.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].detach()))
    before = model.bn1.running_mean.clone()
    model.train()
    model(torch.randn(4, 3, 64, 64) * 3 + 1)
    momentum = model.bn1.momentum
    expected = (1 - momentum) * before + momentum * seen[0].double().mean((0, 2, 3)).float()
    torch.testing.assert_close(model.bn1.running_mean, expected, rtol=1e-5, atol=1e-6)


def test_frozen_batch_norm_keeps_its_statistics():
    model = HMR("tiny")
    select_trainable(model, "regressor")
    model.train()
    stats = model.bn1.running_mean.clone()
    model(torch.randn(4, 3, 64, 64))
    assert torch.equal(model.bn1.running_mean, stats)
    assert model.drop1.training  # the rest of the model is in train mode
