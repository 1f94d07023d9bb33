"""configs/paper.yaml end to end on tiny stand-ins of every file it names, in SPIN's data/
layout: the run trains through every loss term; missing files are all named before it starts."""

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from spin_layout import write_spin_dataset

from mocap_hmr.body import BodyModel
from mocap_hmr.config import load_config
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.models.checkpoints import save_spin_checkpoint
from mocap_hmr.models.hmr import HMR
from mocap_hmr.training.runner import train

PAPER = Path(__file__).parents[1] / "configs" / "paper.yaml"
TINY = {"device": "cpu", "render.image_size": 32, "render.backend": "torch", "mocap_spin.backbone": "tiny",
        "stand_in_spin.enabled": False, "stand_in_spin.images": 16,
        "mocap_spin.batch_size": 8, "mocap_spin.iterations": 4, "mocap_spin.real_workers": 0,
        "mocap_spin.log_every": 1, "mocap_spin.checkpoint_every": 4, "mocap_spin.picture_every": 100,
        "posebert.dim": 32, "posebert.depth": 2, "posebert.heads": 2, "posebert.batch_size": 8,
        "posebert.iterations": 2, "posebert.log_every": 1, "posebert.checkpoint_every": 2}


def paper_config(**overrides):
    return load_config(PAPER, [f"{k}={v}" for k, v in {**TINY, **overrides}.items()])


def write_spin_data(tiny_corpus):
    """Every file configs/paper.yaml names, under the current folder, as SPIN lays them out."""
    body_dir, index = tiny_corpus
    shutil.copytree(body_dir, "data/smpl")  # the tiny body, with its J_regressor_extra / _h36m
    shutil.copy(index, "data/amass_30fps.npz")
    save_spin_checkpoint(HMR("tiny"), "data/model_checkpoint.pt")
    np.savez("data/smpl_mean_params.npz", pose=np.tile([1.0, 0, 0, 1, 0, 0], 24), shape=np.zeros(10),
             cam=np.array([0.9, 0.0, 0.0]))
    body = BodyModel("data/smpl")
    for i, d in enumerate(paper_config().mocap_spin.real):
        write_spin_dataset(Path(d.npz), Path(d.images), Path(d.fits), body, n=6, seed=i,
                           with_3d="mpi_inf_3dhp" in d.npz, wrong_fits=(5,))


def test_the_paper_recipe_trains_through_every_loss_term(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_spin_data(tiny_corpus)
    cfg = paper_config()
    assert not any("h36m" in d.npz for d in cfg.mocap_spin.real)  # the paper could not use Human3.6M
    assert all(d.fits for d in cfg.mocap_spin.real)
    logs = []
    train(cfg, log=logs.append)
    with open("runs/paper/metrics_mocap_spin.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4
    for term in ("keypoints_2d", "keypoints_3d", "pose", "betas", "camera"):
        assert max(float(r[term]) for r in rows) > 0, term
    assert not any("no fits configured" in line for line in logs)
    assert Path("runs/paper/mocap_spin.pt").is_file() and Path("runs/paper/posebert.pt").is_file()


def test_every_missing_input_is_named_before_anything_starts(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MocapHMRError) as empty:
        train(paper_config())
    lines = str(empty.value).splitlines()
    assert lines[0].startswith("19 input(s) the configuration names are missing")
    for key in ("body.model_path", "motion.index", "mocap_spin.checkpoint", "mocap_spin.mean_params",
                "mocap_spin.real[0].npz", "mocap_spin.real[2].images", "mocap_spin.real[4].fits"):
        assert any(line.strip().startswith(f"{key}: ") for line in lines[1:]), key
    assert not Path("runs").exists()  # nothing written
    write_spin_data(tiny_corpus)
    Path("data/static_fits/coco_fits.npy").unlink()
    Path("data/smpl/J_regressor_h36m.npy").unlink()
    with pytest.raises(MocapHMRError) as two:
        train(paper_config())
    assert str(two.value).splitlines()[1:] == [
        "  body.model_path: data/smpl/J_regressor_h36m.npy (SPIN's regressor of the 17 H36M joints)",
        "  mocap_spin.real[2].fits: data/static_fits/coco_fits.npy (SPIN's fits of the dataset)"]
