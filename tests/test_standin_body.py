"""The anny stand-in body: cache, smplx compatibility, plausible human proportions,
symmetry, skinning, textures; and the message when anny is not installed."""

import json
import pickle
import sys

import numpy as np
import pytest
import smplx
import torch

from mocap_hmr.body import SMPL_JOINT_NAMES, BodyModel
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.imageio import read_image

J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
MIRROR = [J[n.replace("left", "right")] if "left" in n else J[n.replace("right", "left")]
          if "right" in n else J[n] for n in SMPL_JOINT_NAMES]


def test_missing_anny_says_how_to_install(tmp_path, monkeypatch):
    from mocap_hmr.body.standin import build_standin_body

    monkeypatch.setitem(sys.modules, "anny", None)
    with pytest.raises(MocapHMRError, match=r"optional package anny.*pip install"):
        build_standin_body(tmp_path / "body")
    assert not (tmp_path / "body").exists()


def test_a_broken_cached_build_is_named_and_rebuilt(tmp_path, monkeypatch, capsys):
    """A stand-in build whose model file was cut short: loading it says how to rebuild, and
    build-body rebuilds it instead of reporting it there."""
    from mocap_hmr import cli
    from mocap_hmr.body.standin import STANDIN_VERSION, is_current
    from mocap_hmr.body.tiny_body import write_tiny_body

    folder = write_tiny_body(tmp_path / "body")
    (folder / "build_info.json").write_text(json.dumps({"standin_version": STANDIN_VERSION}))
    assert is_current(folder)
    model = folder / "SMPL_NEUTRAL.pkl"
    model.write_bytes(model.read_bytes()[:500])
    assert not is_current(folder)
    with pytest.raises(MocapHMRError, match=f"truncated or corrupt: it belongs to a stand-in body build, which "
                                            f"mocap-hmr build-body --out {folder} rebuilds"):
        BodyModel(folder)
    monkeypatch.setitem(sys.modules, "anny", None)  # the rebuild starts by importing anny
    assert cli.main(["build-body", "--out", str(folder)]) == 2
    out, err = capsys.readouterr()
    assert f"{folder}: the stand-in body there is broken or out of date ({model}: cannot be read" in out
    assert "optional package anny" in err and "body model in" not in out



@pytest.fixture(scope="module")
def raw(standin_body_dir):
    with open(standin_body_dir / "SMPL_NEUTRAL.pkl", "rb") as fh:
        return pickle.load(fh)


@pytest.mark.slow
def test_cached_build_is_reused(standin_body_dir):
    from mocap_hmr.body.standin import STANDIN_VERSION, build_standin_body

    info = json.loads((standin_body_dir / "build_info.json").read_text())
    assert info["standin_version"] == STANDIN_VERSION and info["vertices"] == 13718
    messages = []
    assert build_standin_body(standin_body_dir, log=messages.append) == standin_body_dir
    assert messages == []


@pytest.mark.slow
def test_smplx_create_loads_it_as_is(standin_body_dir, raw):
    model = smplx.create(str(standin_body_dir), model_type="smpl")
    out = model(body_pose=torch.zeros(1, 69))
    assert out.vertices.shape == (1, 13718, 3)
    ours = BodyModel(standin_body_dir)(torch.zeros(1, 24, 3))
    torch.testing.assert_close(out.vertices, ours.vertices)


@pytest.mark.slow
def test_human_proportions_and_symmetry(standin_body_dir, raw):
    body = BodyModel(standin_body_dir)
    out = body(torch.zeros(1, 24, 3))
    v, j = out.vertices[0].numpy(), out.joints[0].numpy()
    height = np.ptp(v[:, 1])
    assert 1.55 < height < 1.85
    assert 0.9 < np.ptp(v[:, 0]) / height < 1.15  # T-pose: the arm span is about the height
    mirrored = j[MIRROR] * np.array([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(mirrored, j, atol=0.01)
    assert j[J["left_knee"], 1] < j[J["left_hip"], 1] < j[J["spine1"], 1] < j[J["neck"], 1] < j[J["head"], 1]
    weights = np.asarray(raw["weights"])
    np.testing.assert_allclose(weights.sum(1), 1.0, atol=1e-5)
    assert (weights >= 0).all()
    # every joint moves some vertices
    assert (weights.max(0) > 0.3).all()


@pytest.mark.slow
def test_shape_directions_span_a_population(standin_body_dir):
    body = BodyModel(standin_body_dir)
    betas = torch.zeros(3, 10)
    betas[:, 0] = torch.tensor([-1.0, 0.0, 1.0])
    v = body(torch.zeros(3, 24, 3), betas).vertices
    height = (v[..., 1].amax(1) - v[..., 1].amin(1)).numpy()
    # one standard deviation of the first direction: a few centimetres to a decimetre
    assert 0.03 < height[2] - height[1] < 0.15 and 0.03 < height[1] - height[0] < 0.15


@pytest.mark.slow
def test_vertex_joints_sit_where_they_belong(standin_body_dir):
    from mocap_hmr.body import SPIN_JOINT_NAMES

    out = BodyModel(standin_body_dir)(torch.zeros(1, 24, 3))
    s = {name: out.spin_joints[0, i].numpy() for i, name in enumerate(SPIN_JOINT_NAMES)}
    head = out.joints[0, J["head"]].numpy()
    assert s["Nose"][2] > head[2] + 0.05
    assert s["Left Eye"][0] > 0.01 > -0.01 > s["Right Eye"][0]
    assert s["Left Ear"][0] > s["Left Eye"][0] and s["Right Ear"][0] < s["Right Eye"][0]
    assert s["OP LBigToe"][2] > s["OP LHeel"][2] + 0.15
    assert s["Top of Head (LSP)"][1] > s["Head (H36M)"][1] > s["Jaw (H36M)"][1] > s["Neck (LSP)"][1]


@pytest.mark.slow
def test_textures(standin_body_dir, raw):
    files = sorted((standin_body_dir / "textures").glob("skin_*.png"))
    assert len(files) == 6
    means = [read_image(f).reshape(-1, 3).mean(0).sum() for f in files]
    assert all(a > b for a, b in zip(means, means[1:], strict=False))  # light to dark
    vt, ft = np.asarray(raw["vt"]), np.asarray(raw["ft"])
    assert ft.shape == np.asarray(raw["f"]).shape and ft.max() < len(vt)
    assert (vt >= 0).all() and (vt <= 1).all()


def test_resolve_body_model_prefers_configured_smpl(tmp_path, monkeypatch):
    from mocap_hmr.body.standin import resolve_body_model

    monkeypatch.setenv("SMPL_DIR", str(tmp_path / "smpl"))
    assert resolve_body_model(tmp_path / "explicit") == tmp_path / "explicit"
    assert resolve_body_model() == tmp_path / "smpl"
