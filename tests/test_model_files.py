"""Model files: chumpy-free loading, naming variants, .npz conversion, and the bad inputs
of BAD_INPUTS.md 1-6 (missing, corrupt, another model kind, bad gender)."""

import importlib.util
import pickle
import shutil
import sys
import types

import numpy as np
import pytest
import torch

from mocap_hmr.body import BodyModel, find_model_file, load_model_file, normalize_gender
from mocap_hmr.cli import main
from mocap_hmr.errors import ModelFileError, ModelNotFoundError


@pytest.fixture(scope="module")
def tiny_model(tiny_body_dir):
    with open(tiny_body_dir / "SMPL_NEUTRAL.pkl", "rb") as fh:
        return pickle.load(fh)


def _fake_module(name):
    module = types.ModuleType(name)
    sys.modules[name] = module
    return module


def write_official_style_pickle(model: dict, path):
    """Pickle the model the way the official SMPL files are: shapedirs a chumpy ``Ch``,
    J_regressor a scipy ``csc_matrix``; both classes are fakes that exist only while pickling."""
    names = ["chumpy", "chumpy.ch", "scipy", "scipy.sparse", "scipy.sparse._csc"]
    saved = {n: sys.modules.get(n) for n in names}
    try:
        for n in names:
            _fake_module(n)
        ch_class = type("Ch", (), {"__module__": "chumpy.ch"})
        csc_class = type("csc_matrix", (), {"__module__": "scipy.sparse._csc"})
        sys.modules["chumpy.ch"].Ch = ch_class
        sys.modules["scipy.sparse._csc"].csc_matrix = csc_class
        shapedirs = ch_class()
        shapedirs.__dict__.update(x=np.asarray(model["shapedirs"], np.float64),
                                  _dirty_vars=set(), _itr=None, _make_dense=False)
        dense = np.asarray(model["J_regressor"], np.float64)
        rows, cols = np.nonzero(dense.T)  # column-major walk: csc
        regressor = csc_class()
        regressor.__dict__.update(
            data=dense.T[rows, cols], indices=cols.astype(np.int32),
            indptr=np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=dense.shape[1]))]),
            _shape=dense.shape, maxprint=50)
        data = dict(model, shapedirs=shapedirs, J_regressor=regressor, bs_style="lbs")
        data.pop("vertex_ids")
        with open(path, "wb") as fh:
            pickle.dump(data, fh, protocol=2)
    finally:
        for n, module in saved.items():
            if module is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = module


def test_chumpy_pickle_loads_without_chumpy(tmp_path, tiny_body_dir, tiny_model):
    assert importlib.util.find_spec("chumpy") is None, "this test needs chumpy absent"
    path = tmp_path / "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl"
    write_official_style_pickle(tiny_model, path)
    assert b"chumpy.ch" in path.read_bytes() and b"csc_matrix" in path.read_bytes()
    data = load_model_file(path)
    np.testing.assert_allclose(data["shapedirs"], tiny_model["shapedirs"])
    np.testing.assert_allclose(data["J_regressor"], tiny_model["J_regressor"], atol=1e-7)
    body = BodyModel(tmp_path)
    assert body.model_file == path
    pose = torch.randn(2, 24, 3, generator=torch.Generator().manual_seed(0)) * 0.3
    betas = torch.ones(2, 10)
    torch.testing.assert_close(body(pose, betas).vertices,
                               BodyModel(tiny_body_dir)(pose, betas).vertices)


@pytest.mark.parametrize("func", [shutil.rmtree, np.save])  # numpy too: only its arrays may be built
def test_pickle_with_foreign_class_is_refused(tmp_path, func):
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    with open(path, "wb") as fh:
        pickle.dump({"v_template": func}, fh)
    with pytest.raises(ModelFileError, match=rf"{func.__module__}.{func.__name__}.*refusing"):
        load_model_file(path)


@pytest.mark.parametrize("name", [
    "SMPL_NEUTRAL.pkl", "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl",
    "basicmodel_neutral_lbs_10_207_0_v1.1.0.pkl", "smpl/SMPL_NEUTRAL.pkl", "smpl_neutral.PKL",
])
def test_naming_variants(tmp_path, tiny_body_dir, name):
    target = tmp_path / name
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(tiny_body_dir / "SMPL_NEUTRAL.pkl", target)
    assert find_model_file(tmp_path, "neutral") == target


def test_missing_model_says_where_and_how(tmp_path):
    with pytest.raises(ModelNotFoundError) as info:
        BodyModel(tmp_path)
    msg = str(info.value)
    assert str(tmp_path) in msg and "SMPL_NEUTRAL.pkl" in msg
    assert "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl" in msg and "smpl.is.tue.mpg.de" in msg
    with pytest.raises(ModelNotFoundError, match="no female SMPL model"):
        find_model_file(tmp_path, b"female")


def test_no_model_configured(tmp_path, monkeypatch):
    monkeypatch.delenv("SMPL_DIR", raising=False)
    monkeypatch.setenv("MOCAP_HMR_CACHE", str(tmp_path / "empty-cache"))
    with pytest.raises(ModelNotFoundError, match=r"SMPL_DIR is not set.*mocap-hmr build-body"):
        find_model_file(None)
    monkeypatch.setenv("SMPL_DIR", str(tmp_path))
    with pytest.raises(ModelNotFoundError, match=str(tmp_path)):
        find_model_file(None)


@pytest.mark.parametrize("suffix", [".pkl", ".npz"])
def test_truncated_file(tmp_path, tiny_body_dir, suffix):
    full = tmp_path / f"full{suffix}"
    main(["convert-smpl", str(tiny_body_dir / "SMPL_NEUTRAL.pkl"), str(full)]) if suffix == ".npz" \
        else shutil.copyfile(tiny_body_dir / "SMPL_NEUTRAL.pkl", full)
    cut = tmp_path / f"SMPL_NEUTRAL{suffix}"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(ModelFileError, match=rf"{cut.name}.*truncated or corrupt"):
        BodyModel(cut)


def test_garbage_file(tmp_path):
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    path.write_bytes(b"<html>404 not found</html>")
    with pytest.raises(ModelFileError, match="truncated or corrupt"):
        BodyModel(tmp_path)


@pytest.mark.parametrize("n_joints,kind", [(55, "SMPL-X"), (52, "SMPL\\+H"), (16, "MANO")])
def test_other_model_kinds_are_named(tmp_path, tiny_model, n_joints, kind):
    data = dict(tiny_model, kintree_table=np.zeros((2, n_joints), np.int64))
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    with open(path, "wb") as fh:
        pickle.dump(data, fh)
    with pytest.raises(ModelFileError, match=rf"this is {kind}.*not SMPL"):
        BodyModel(path)


def test_inconsistent_arrays_are_named(tmp_path, tiny_model):
    data = dict(tiny_model, weights=np.zeros((5, 24)))
    path = tmp_path / "SMPL_NEUTRAL.pkl"
    with open(path, "wb") as fh:
        pickle.dump(data, fh)
    with pytest.raises(ModelFileError, match=r"'weights' has shape \(5, 24\)"):
        load_model_file(path)


@pytest.mark.parametrize("value", ["neutral", "NEUTRAL", b"neutral", np.str_("Neutral"),
                                   np.array("n"), np.array(b"neutral")])
def test_gender_variants(value):
    assert normalize_gender(value) == "neutral"


@pytest.mark.parametrize("value", ["alien", 3, None, b"\xff"])
def test_bad_gender(value):
    with pytest.raises(ModelFileError, match="not one of neutral / male / female"):
        normalize_gender(value)


def test_convert_smpl_cli_round_trip(tmp_path, tiny_body_dir, capsys):
    official = tmp_path / "official" / "basicModel_neutral_lbs_10_207_0_v1.0.0.pkl"
    official.parent.mkdir()
    with open(tiny_body_dir / "SMPL_NEUTRAL.pkl", "rb") as fh:
        write_official_style_pickle(pickle.load(fh), official)
    out = tmp_path / "SMPL_NEUTRAL.npz"
    assert main(["convert-smpl", str(official), str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    pose = torch.randn(1, 24, 3, generator=torch.Generator().manual_seed(1)) * 0.3
    torch.testing.assert_close(BodyModel(out)(pose).vertices, BodyModel(official)(pose).vertices)


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["convert-smpl", str(tmp_path / "nope.pkl"), str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.pkl: no such model file" in err
    assert not (tmp_path / "x.npz").exists()
