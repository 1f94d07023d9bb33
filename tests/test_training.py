"""MoCap-SPIN training on the tiny body: the loss falls on one batch, a resumed run equals
an uninterrupted one, NaN stops without saving, bad resume and config inputs are named."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.config import load_config
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.training.checkpointing import load_checkpoint
from mocap_hmr.training.mocap_spin import MocapSpinTrainer
from mocap_hmr.training.runner import build_mocap_spin, build_streams, train

_spec = importlib.util.spec_from_file_location("train_script", Path(__file__).parents[1] / "train.py")
train_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(train_script)

HAS_TENSORBOARD = importlib.util.find_spec("tensorboard") is not None  # the optional extra that writes events


def config(tiny_corpus, out_dir, **overrides):
    body_dir, index = tiny_corpus
    items = {"out_dir": str(out_dir), "device": "cpu", "body.model_path": str(body_dir), "motion.index": str(index),
             "render.image_size": 32, "render.backend": "torch", "mocap_spin.backbone": "tiny",
             "stand_in_spin.enabled": False, "stand_in_spin.images": 16,
             "mocap_spin.batch_size": 4, "mocap_spin.iterations": 4, "mocap_spin.trainable": "all",
             "mocap_spin.lr": 1e-3, "mocap_spin.log_every": 1, "mocap_spin.picture_every": 100,
             "mocap_spin.checkpoint_every": 2, "posebert.enabled": False, "posebert.dim": 32, "posebert.depth": 2,
             "posebert.heads": 2, "posebert.window": 8, "posebert.batch_size": 8, "posebert.iterations": 4,
             "posebert.log_every": 1, "posebert.checkpoint_every": 2, **overrides}
    return load_config(None, [f"{k}={v}" for k, v in items.items()])


def test_loss_falls_when_overfitting_one_batch(tiny_corpus, tmp_path):
    cfg = config(tiny_corpus, tmp_path)
    body = BodyModel(cfg.body.model_path)
    streams = build_streams(cfg, body, torch.device("cpu"), log=lambda m: None)
    torch.manual_seed(0)
    trainer = build_mocap_spin(cfg, body, torch.device("cpu"), log=lambda m: None, streams=streams)
    batch = trainer.batch(torch.Generator().manual_seed(0))
    trainer.model.eval()  # no dropout: a deterministic objective
    losses = []
    for _ in range(200):
        loss = trainer.losses(batch)["loss"]
        trainer.optimizer.zero_grad()
        loss.backward()
        trainer.optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses[::16]


def _weights(run_dir):
    return load_checkpoint(Path(run_dir) / "checkpoints" / "last.pt")["mocap_spin"]["model"]


def test_resume_equals_an_uninterrupted_run(tiny_corpus, tmp_path):
    train(config(tiny_corpus, tmp_path / "straight", **{"mocap_spin.iterations": 4}), log=lambda m: None)
    train(config(tiny_corpus, tmp_path / "split", **{"mocap_spin.iterations": 2}), log=lambda m: None)
    train(config(tiny_corpus, tmp_path / "split", **{"mocap_spin.iterations": 4, "resume": True}), log=lambda m: None)
    straight, split = _weights(tmp_path / "straight"), _weights(tmp_path / "split")
    for key in straight:
        assert torch.equal(straight[key], split[key]), key
    rows = (tmp_path / "split" / "metrics_mocap_spin.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["step", "1", "2", "3", "4"]
    assert (tmp_path / "split" / "pictures" / "step_000004.png").is_file()
    from mocap_hmr.models.checkpoints import read_checkpoint

    final = read_checkpoint(tmp_path / "split" / "mocap_spin.pt")["model"]  # SPIN's layout
    assert all(torch.equal(final[k], split[k]) for k in split)
    start = read_checkpoint(tmp_path / "split" / "mocap_spin_start.pt")["model"]
    assert not all(torch.equal(start[k], split[k]) for k in split)  # the initialisation, before training
    from omegaconf import OmegaConf

    saved = OmegaConf.load(tmp_path / "split" / "config.yaml")
    assert saved.mocap_spin.iterations == 4 and saved.resume is True


def test_bn_stats_moves_only_the_statistics_and_resumes(tiny_corpus, tmp_path):
    bn_stats = {"mocap_spin.trainable": "bn-stats"}
    train(config(tiny_corpus, tmp_path / "straight", **bn_stats), log=lambda m: None)
    train(config(tiny_corpus, tmp_path / "split", **bn_stats, **{"mocap_spin.iterations": 2}), log=lambda m: None)
    train(config(tiny_corpus, tmp_path / "split", **bn_stats, resume=True), log=lambda m: None)
    straight, split = _weights(tmp_path / "straight"), _weights(tmp_path / "split")
    assert all(torch.equal(straight[key], split[key]) for key in straight)
    from mocap_hmr.models.checkpoints import read_checkpoint

    start = read_checkpoint(tmp_path / "straight" / "mocap_spin_start.pt")["model"]
    statistics = [k for k in straight if k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert statistics and all(not torch.equal(straight[k], start[k]) for k in statistics)
    assert all(torch.equal(straight[k], start[k]) for k in straight if k not in statistics)


def test_resume_needs_a_readable_checkpoint(tiny_corpus, tmp_path):
    with pytest.raises(MocapHMRError, match="nothing to resume from: .*last.pt does not exist"):
        train(config(tiny_corpus, tmp_path / "none", resume=True), log=lambda m: None)
    run = tmp_path / "cut"
    train(config(tiny_corpus, run, **{"mocap_spin.iterations": 2}), log=lambda m: None)
    ckpt = run / "checkpoints" / "last.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:2000])
    with pytest.raises(MocapHMRError, match="last.pt: cannot resume from this checkpoint, it is cut short"):
        train(config(tiny_corpus, run, resume=True), log=lambda m: None)


def test_nan_loss_stops_with_the_step_and_keeps_the_last_checkpoint(tiny_corpus, tmp_path, monkeypatch):
    run = tmp_path / "nan"
    original = MocapSpinTrainer.losses
    calls = {"n": 0}

    def poisoned(self, batch):
        calls["n"] += 1
        terms = original(self, batch)
        if calls["n"] == 3:
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    monkeypatch.setattr(MocapSpinTrainer, "losses", poisoned)
    with pytest.raises(MocapHMRError, match="loss became nan at step 3; training stopped"):
        train(config(tiny_corpus, run, **{"mocap_spin.checkpoint_every": 1}), log=lambda m: None)
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert state["done"]["mocap_spin"] == 2
    assert all(torch.isfinite(v).all() for v in state["mocap_spin"]["model"].values() if v.is_floating_point())


def test_train_script_reports_bad_config(capsys):
    assert train_script.main(["mocap_spin.iterations=abc"]) == 2
    err = capsys.readouterr().err
    assert "mocap_spin.iterations" in err and "could not be converted to Integer" in err
    assert train_script.main(["mocap_spin.itrations=5"]) == 2
    assert "keys of mocap_spin: enabled, backbone" in capsys.readouterr().err


def test_real_images_fill_the_real_half(tiny_corpus, tmp_path):
    from test_spin_dataset import write_dataset

    npz = write_dataset(tmp_path, n=6)
    real_arg = f"[{{npz: {npz}, images: {tmp_path / 'images'}}}]"  # as on the command line
    cfg = config(tiny_corpus, tmp_path / "real", **{"mocap_spin.iterations": 2, "mocap_spin.real_workers": 0,
                                              "mocap_spin.real": real_arg})
    body = BodyModel(cfg.body.model_path)
    trainer = build_mocap_spin(cfg, body, torch.device("cpu"), log=lambda m: None)
    batch = trainer.batch(torch.Generator().manual_seed(0))
    assert batch.images.shape == (4, 3, 32, 32)
    assert batch.has_3d.tolist() == [True] * 4 and batch.masks[2:].sum() == 0  # real samples: no masks
    terms = trainer.step(torch.Generator().manual_seed(0))
    assert all(np.isfinite(v) for v in terms.values())
    train(cfg, log=lambda m: None)
    assert (tmp_path / "real" / "checkpoints" / "last.pt").is_file()
    split = {"mocap_spin.real_workers": 0, "mocap_spin.real": real_arg, "mocap_spin.checkpoint_every": 1}
    train(config(tiny_corpus, tmp_path / "split", **split, **{"mocap_spin.iterations": 1}), log=lambda m: None)
    train(config(tiny_corpus, tmp_path / "split", **split, **{"mocap_spin.iterations": 2}, resume=True),
          log=lambda m: None)
    assert load_checkpoint(tmp_path / "split" / "checkpoints" / "last.pt")["mocap_spin"]["real"] == {
        "epoch": 0, "batch": 2}
    straight, resumed = _weights(tmp_path / "real"), _weights(tmp_path / "split")
    assert all(torch.equal(straight[k], resumed[k]) for k in straight)


def test_both_models_train_in_one_process_and_resume(tiny_corpus, tmp_path):
    both = {"posebert.enabled": True, "mocap_spin.iterations": 2}
    train(config(tiny_corpus, tmp_path / "straight", **both), log=lambda m: None)
    train(config(tiny_corpus, tmp_path / "split", **{**both, "mocap_spin.iterations": 1, "posebert.iterations": 2}),
          log=lambda m: None)
    train(config(tiny_corpus, tmp_path / "split", **both, resume=True), log=lambda m: None)
    for run in ("straight", "split"):
        state = load_checkpoint(tmp_path / run / "checkpoints" / "last.pt")
        assert state["done"] == {"mocap_spin": 2, "posebert": 4}
    a = load_checkpoint(tmp_path / "straight" / "checkpoints" / "last.pt")["posebert"]["model"]
    b = load_checkpoint(tmp_path / "split" / "checkpoints" / "last.pt")["posebert"]["model"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    rows = (tmp_path / "straight" / "metrics_posebert.csv").read_text().splitlines()
    assert rows[0].startswith("step,loss,rotation,joints") and len(rows) == 5
    from mocap_hmr.models.posebert import load_posebert

    assert load_posebert(tmp_path / "straight" / "posebert.pt").config["dim"] == 32


def test_paired_renderings_and_feature_alignment(tiny_corpus, tmp_path):
    cfg = config(tiny_corpus, tmp_path / "paired", **{"mocap_spin.synthetic_source": "paired",
                                                "mocap_spin.feature_alignment.contrastive": 0.01,
                                                "mocap_spin.feature_alignment.l2": 0.001})
    body = BodyModel(cfg.body.model_path)
    trainer = build_mocap_spin(cfg, body, torch.device("cpu"), log=lambda m: None)
    batch = trainer.batch(torch.Generator().manual_seed(0))
    # each rendering shows its real sample's pose and shape from the same viewpoint
    torch.testing.assert_close(batch.pose[:2], batch.pose[2:], atol=1e-5, rtol=0)
    torch.testing.assert_close(batch.betas[:2], batch.betas[2:])
    terms = trainer.step(torch.Generator().manual_seed(0))
    assert {"align_l2", "align_cosine", "align_contrastive"} <= set(terms) and terms["align_contrastive"] > 0
    with pytest.raises(MocapHMRError, match="synthetic_source=paired .* needs synthetic_fraction=0.5"):
        MocapSpinTrainer(config(tiny_corpus, tmp_path, **{"mocap_spin.synthetic_source": "paired",
                                                    "mocap_spin.synthetic_fraction": 0.25}).mocap_spin,
                         body, trainer.synthetic, trainer.real, torch.device("cpu"), log=lambda m: None)


def test_keypoint_posebert_trains_and_refines_keypoints(tiny_corpus, tmp_path):
    cfg = config(tiny_corpus, tmp_path / "h36m", **{"mocap_spin.enabled": False, "posebert.enabled": True,
                                               "posebert.input": "h36m", "posebert.iterations": 3})
    train(cfg, log=lambda m: None)
    rows = (tmp_path / "h36m" / "metrics_posebert.csv").read_text().splitlines()
    assert len(rows) == 4 and all(np.isfinite(float(r.split(",")[1])) for r in rows[1:])
    from mocap_hmr.models.posebert import load_posebert
    from mocap_hmr.refinement import refine

    model = load_posebert(tmp_path / "h36m" / "posebert.pt")
    body = BodyModel(cfg.body.model_path)
    assert model.input == "h36m"
    torch.testing.assert_close(model.skeleton, body(torch.zeros(1, 24, 3)).h36m_joints[0])
    joints = body(0.3 * torch.randn(12, 24, 3, generator=torch.Generator().manual_seed(0))).h36m_joints
    assert torch.isfinite(refine(joints, model)).all()


POSEBERT_SWITCHES = {"start": "input", "start_sigma": 3.5, "canonical_root": True, "regressor": "top",
                     "share_regressor": False, "regressor_iterations": 2, "positional_encoding": "every_block"}


@pytest.mark.parametrize("key", POSEBERT_SWITCHES)
def test_posebert_architecture_keys_reach_the_model(tiny_corpus, tmp_path, key):
    from mocap_hmr.data.motion_index import load_index
    from mocap_hmr.models.posebert import load_posebert, save_posebert
    from mocap_hmr.training.posebert_step import PoseBertTrainer

    cfg = config(tiny_corpus, tmp_path, **{f"posebert.{key}": POSEBERT_SWITCHES[key]})
    trainer = PoseBertTrainer(cfg.posebert, load_index(cfg.motion.index), BodyModel(cfg.body.model_path),
                              torch.device("cpu"), log=lambda m: None)
    assert trainer.model.config[key] == POSEBERT_SWITCHES[key]
    default = PoseBertTrainer(config(tiny_corpus, tmp_path).posebert, load_index(cfg.motion.index),
                              BodyModel(cfg.body.model_path), torch.device("cpu"), log=lambda m: None)
    assert default.model.config[key] != POSEBERT_SWITCHES[key]
    save_posebert(trainer.model, tmp_path / "p.pt", trainer.model_config)
    assert load_posebert(tmp_path / "p.pt").config[key] == POSEBERT_SWITCHES[key]  # the checkpoint keeps it


def test_posebert_sampling_keys_reach_the_sampler(tiny_corpus, tmp_path):
    from mocap_hmr.data.motion_index import load_index
    from mocap_hmr.training.posebert_step import PoseBertTrainer

    cfg = config(tiny_corpus, tmp_path, **{"posebert.fps": 15, "posebert.random_pose": 0.1,
                                           "posebert.random_joint": 0.05, "posebert.mask_mode": "span"})
    index = load_index(cfg.motion.index)
    sampler = PoseBertTrainer(cfg.posebert, index, BodyModel(cfg.body.model_path), torch.device("cpu"),
                              log=lambda m: None).sampler
    assert (sampler.stride, sampler.random_pose, sampler.random_joint, sampler.mask_mode) == (2, 0.1, 0.05, "span")
    windows = sampler.sample(4, torch.Generator().manual_seed(0))
    frames = windows["start"][:, None] + 2 * torch.arange(cfg.posebert.window)  # every second frame: 15 of 30 fps
    torch.testing.assert_close(windows["poses"], index.poses[frames])


def test_posebert_exclude_leaves_sequences_out(tiny_corpus, tmp_path):
    from mocap_hmr.data.motion_index import load_index
    from mocap_hmr.training.posebert_step import PoseBertTrainer

    index = load_index(config(tiny_corpus, tmp_path).motion.index)
    family = index.names[0].split("/")[1].rsplit("_", 1)[0]
    messages = []
    cfg = config(tiny_corpus, tmp_path, **{"posebert.exclude": f"['*/{family}_*']"})
    trainer = PoseBertTrainer(cfg.posebert, index, BodyModel(cfg.body.model_path), torch.device("cpu"),
                              log=messages.append)
    kept = [n for n in index.names if f"/{family}_" not in n]
    assert trainer.sampler.index.names == kept and len(kept) < index.num_sequences
    assert trainer.sampler.index.num_frames == sum(int(index.lengths[index.names.index(n)]) for n in kept)
    assert any("leaves out" in m for m in messages)
    with pytest.raises(MocapHMRError, match=r"posebert.exclude=\['\*'\] leaves none of the"):
        PoseBertTrainer(config(tiny_corpus, tmp_path, **{"posebert.exclude": "['*']"}).posebert, index,
                        BodyModel(cfg.body.model_path), torch.device("cpu"), log=messages.append)


class _HalfWithoutTargets:
    """A real-half source whose odd samples have no SMPL target (no ground truth, no valid
    fit): the stream gives them zero pose and betas, the rest pose."""

    def __init__(self, source):
        self.source = source

    def sample(self, n, generator):
        batch = self.source.sample(n, generator)
        batch.has_smpl = torch.arange(n) % 2 == 0
        batch.pose[~batch.has_smpl], batch.betas[~batch.has_smpl] = 0.0, 0.0
        return batch


def test_paired_renders_nothing_without_a_target_as_ground_truth(tiny_corpus, tmp_path):
    cfg = config(tiny_corpus, tmp_path, **{"mocap_spin.synthetic_source": "paired", "mocap_spin.batch_size": 8})
    body = BodyModel(cfg.body.model_path)
    synthetic, real = build_streams(cfg, body, torch.device("cpu"), log=lambda m: None)
    trainer = build_mocap_spin(cfg, body, torch.device("cpu"), log=lambda m: None,
                               streams=(synthetic, _HalfWithoutTargets(real)))
    batch = trainer.batch(torch.Generator().manual_seed(0))
    rendered, real_half = slice(0, 4), slice(4, 8)
    paired = batch.has_smpl[real_half]
    assert paired.tolist() == [True, False, True, False] and batch.has_smpl[rendered].all()
    torch.testing.assert_close(batch.pose[rendered][paired], batch.pose[real_half][paired], atol=1e-5, rtol=0)
    corpus = synthetic.poses.index.poses[:, 1:]
    for pose in batch.pose[rendered][~paired]:  # a pose of the motion corpus, not the rest pose
        assert pose[1:].abs().max() > 0.05
        assert (corpus == pose[1:]).all(-1).all(-1).any()
    terms = trainer.losses(batch)
    assert all(torch.isfinite(v) for v in terms.values())


def test_precision_decides_autocast(tiny_corpus, tmp_path, monkeypatch):
    from mocap_hmr.training.mocap_spin import autocast_dtype

    cuda, cpu = torch.device("cuda"), torch.device("cpu")
    assert autocast_dtype("bf16", cuda) == torch.bfloat16
    assert autocast_dtype("fp32", cuda) is None and autocast_dtype("bf16", cpu) is None
    with pytest.raises(MocapHMRError, match="mocap_spin.precision='fp16' is not one of bf16, fp32"):
        autocast_dtype("fp16", cuda)
    seen = []
    real_autocast = torch.autocast

    def recording(device_type, dtype=None, enabled=True, **kw):
        seen.append((device_type, dtype, enabled))
        return real_autocast(device_type, dtype=dtype, enabled=False, **kw)

    monkeypatch.setattr(torch, "autocast", recording)
    for precision, as_if in (("bf16", cuda), ("fp32", cuda)):
        cfg = config(tiny_corpus, tmp_path, **{"mocap_spin.precision": precision})
        body = BodyModel(cfg.body.model_path)
        trainer = build_mocap_spin(cfg, body, cpu, log=lambda m: None)
        trainer.autocast = autocast_dtype(cfg.mocap_spin.precision, as_if)  # the decision a CUDA trainer makes
        trainer.losses(trainer.batch(torch.Generator().manual_seed(0)))
    assert seen == [("cpu", torch.bfloat16, True), ("cpu", None, False)]


def test_each_task_draws_from_its_own_stream(tiny_corpus, tmp_path):
    """MoCap-SPIN's sampler stream does not depend on PoseBERT's settings or step count."""
    states = []
    for name, posebert in (("short", {"posebert.enabled": True, "posebert.iterations": 2}),
                           ("long", {"posebert.enabled": True, "posebert.iterations": 7, "posebert.window": 4}),
                           ("none", {})):
        out = tmp_path / name
        train(config(tiny_corpus, out, **{"mocap_spin.iterations": 3, **posebert}), log=lambda m: None)
        states.append(load_checkpoint(out / "checkpoints" / "last.pt")["rng"]["generators"])
    assert torch.equal(states[0]["mocap_spin"], states[1]["mocap_spin"])
    assert torch.equal(states[0]["mocap_spin"], states[2]["mocap_spin"])
    assert not torch.equal(states[0]["posebert"], states[1]["posebert"])


def test_loss_terms_are_computed_only_where_weighted(tiny_corpus, tmp_path):
    body = BodyModel(config(tiny_corpus, tmp_path).body.model_path)
    calls = []

    def counting_body(*args, **kwargs):
        calls.append(1)
        return body(*args, **kwargs)

    def losses(**weights):
        cfg = config(tiny_corpus, tmp_path, **{f"mocap_spin.loss.{k}": v for k, v in weights.items()})
        torch.manual_seed(0)
        trainer = build_mocap_spin(cfg, body, torch.device("cpu"), log=lambda m: None,
                                   streams=build_streams(cfg, body, torch.device("cpu"), log=lambda m: None))
        trainer.body = counting_body
        trainer.model.eval()  # no dropout: the same outputs for the same weights
        trainer.last_batch = trainer.batch(torch.Generator().manual_seed(0))
        calls.clear()
        terms = trainer.losses(trainer.last_batch)
        return terms, len(calls), trainer

    weighted, weighted_calls, _ = losses(keypoints_2d=5.0, keypoints_3d=5.0)
    unweighted, unweighted_calls, trainer = losses(keypoints_2d=0.0, keypoints_3d=0.0)
    assert weighted_calls == 1 and unweighted_calls == 0
    assert "keypoints_2d" not in unweighted and "keypoints_3d" not in unweighted
    scale = trainer.weights.scale
    keypoint_part = scale * 5.0 * (weighted["keypoints_2d"] + weighted["keypoints_3d"])
    assert keypoint_part > 0
    rounding = 1e-5 * weighted["loss"].item()  # float32 sums of terms of different sizes
    torch.testing.assert_close(unweighted["loss"], weighted["loss"] - keypoint_part, rtol=0, atol=rounding)
    trainer.body = body
    assert trainer.picture().ndim == 3  # the picture poses the body itself
    cameras, _, _ = losses(keypoints_2d=0.0, keypoints_3d=0.0, crop_camera=2.0)
    torch.testing.assert_close(cameras["loss"] - unweighted["loss"], scale * 2.0 * cameras["crop_camera"], rtol=0,
                               atol=1e-5 * cameras["loss"].item())
    assert cameras["crop_camera"] > 0
