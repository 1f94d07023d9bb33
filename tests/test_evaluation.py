"""eval.py end to end on a tiny run (embedded benchmarks, report, pictures, the prediction
cache), and the pieces it is made of against independent computations."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from test_training import config

from mocap_hmr.data.embedded_world import GAP_FAMILIES, REAL_FAMILIES
from mocap_hmr.data.motion_index import load_index
from mocap_hmr.data.procedural import FAMILIES
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.evaluation.benchmark_eval import refine_tracks
from mocap_hmr.evaluation.predict import cached_predictions
from mocap_hmr.evaluation.run import evaluate, smpl_protocol
from mocap_hmr.models.posebert import build_posebert
from mocap_hmr.refinement import refine
from mocap_hmr.smoothers import make_smoother
from mocap_hmr.training.runner import train

_spec = importlib.util.spec_from_file_location("eval_script", Path(__file__).parents[1] / "eval.py")
eval_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eval_script)

SMALL_EVAL = {"eval.image_samples": 12, "eval.video_sequences": 2, "eval.video_frames": 8,
              "eval.denoising_sequences": 2, "eval.denoising_frames": 12, "eval.batch_size": 8,
              "eval.generalisation_windows": 1, "posebert.exclude": ["*/jump_*"]}
SMOOTHERS = ("PoseBERT", "moving average", "Savitzky-Golay", "OneEuro")


@pytest.fixture(scope="module")
def run(tiny_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    train(config(tiny_corpus, out, **{"posebert.enabled": True, "mocap_spin.iterations": 3, "posebert.iterations": 3}),
          log=lambda m: None)
    return out


def test_eval_writes_the_report_and_reuses_predictions(tiny_corpus, run):
    cfg = config(tiny_corpus, run, **SMALL_EVAL)
    files = evaluate(cfg, log=lambda m: None)
    report = json.loads(files["json"].read_text())
    rows = {(r["method"], r["benchmark"]) for r in report["results"]}
    image_models = ("starting model", "MoCap-SPIN")
    groups = {r["benchmark"] for r in report["results"] if r["kind"] == "smoothing"}
    in_corpus = {name.split("/")[1].rsplit("_", 1)[0] for name in load_index(tiny_corpus[1]).names}
    trained_on = in_corpus - {"jump"}  # posebert.exclude: */jump_*
    assert trained_on and groups == {"turned (any family, random orientation)"} | {
        f"{family} ({'trained on' if family in trained_on else 'unseen'})" for family in FAMILIES}
    image_sets = ("embedded-in-coverage", "embedded-pose-gap", "embedded-view-gap")
    assert rows == ({(m, b) for m in ("mean pose", *image_models) for b in image_sets}
                    | {(m, "embedded-video") for m in image_models}
                    | {(f"{m} + {s}", "embedded-video") for m in image_models for s in SMOOTHERS}
                    | {(m, b) for m in ("corrupted input", *SMOOTHERS) for b in ("embedded-denoising", *groups)})
    for r in report["results"]:
        assert r["protocol"]["joint_set"] == "lsp14" and r["protocol"]["align"] == "pelvis"
        assert np.isfinite(list(r["metrics"].values())).all()
        assert ("accel_error" in r["metrics"]) == (r["kind"] != "image")
    markdown = files["markdown"].read_text()
    assert "| MoCap-SPIN + PoseBERT |" in markdown and "lsp14 joints, pelvis-aligned" in markdown
    assert "| jump (unseen) |" in markdown and "**Accel** (mm/frame²)" in markdown
    assert files["gain_histogram"].is_file() and files["training_curves"].is_file()
    assert files["gain_by_pose_distance"] == run / "eval" / "gain_by_pose_distance.png"
    assert files["gain_by_pose_distance"].is_file()
    gap = report["gain_by_pose_distance"]
    assert gap["benchmarks"] == list(image_sets) and gap["samples"] == 3 * SMALL_EVAL["eval.image_samples"]
    assert sum(gap["bins"]["count"]) == gap["samples"] and -1 <= gap["spearman"] <= 1
    assert set(gap["sets"]) == set(image_sets) and "## Gain by pose distance" in markdown
    assert gap["sets"]["embedded-pose-gap"]["mean_distance_deg"] > gap["sets"]["embedded-in-coverage"][
        "mean_distance_deg"]  # the families the real domain lacks are further from its poses
    by_family = {(f["benchmark"], f["family"]): f["samples"] for f in gap["families"]}
    assert {f for b, f in by_family if b == "embedded-pose-gap"} <= set(GAP_FAMILIES)
    assert {f for b, f in by_family if b == "embedded-in-coverage"} <= set(REAL_FAMILIES)
    assert sum(by_family.values()) == gap["samples"] and "Per motion family" in markdown
    cached = sorted((run / "eval" / "predictions").glob("*.npz"))
    assert len(cached) == 11  # 2 models x 4 rendered benchmarks, the mean pose x 3 image sets
    stamps = [p.stat().st_mtime_ns for p in cached]
    evaluate(cfg, log=lambda m: None)
    assert [p.stat().st_mtime_ns for p in cached] == stamps  # read back, not recomputed


def test_the_validation_split_scores_the_validation_image_sets_only(tiny_corpus, run):
    logs = []
    files = evaluate(config(tiny_corpus, run, **SMALL_EVAL, **{"eval.split": "validation"}), log=logs.append)
    assert files["json"] == run / "eval_validation" / "report.json"
    report = json.loads(files["json"].read_text())
    sets = ("validation-in-coverage", "validation-pose-gap", "validation-view-gap")
    assert {(r["method"], r["benchmark"]) for r in report["results"]} == {
        (m, b) for m in ("mean pose", "starting model", "MoCap-SPIN") for b in sets}
    assert report["gain_by_pose_distance"]["benchmarks"] == list(sets)
    assert any("video, denoising, generalisation left out" in m for m in logs)
    with pytest.raises(MocapHMRError, match="eval.split=validation: eval.embedded names no image set"):
        evaluate(config(tiny_corpus, run, **SMALL_EVAL, **{"eval.split": "validation", "eval.embedded": ["video"]}),
                 log=lambda m: None)


def test_the_mean_pose_row_predicts_the_starting_models_prior(tiny_corpus, run):
    from mocap_hmr.evaluation.predict import load_image_model
    from mocap_hmr.geometry import rot6d_to_matrix

    cfg = config(tiny_corpus, run, **SMALL_EVAL)
    (weights,) = (run / "eval").glob("mean_pose_*.pt")  # one per starting model
    model = load_image_model(cfg.mocap_spin, weights, torch.device("cpu"))
    start = load_image_model(cfg.mocap_spin, run / "mocap_spin_start.pt", torch.device("cpu"))
    images = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        out = model(images)
    prior = rot6d_to_matrix(start.init_pose.reshape(24, 6))
    torch.testing.assert_close(out.rotmat, prior.expand(2, 24, 3, 3))
    torch.testing.assert_close(out.betas, start.init_shape.expand(2, 10))


def test_eval_script_reports_what_is_missing(tmp_path, capsys):
    assert eval_script.main([f"out_dir={tmp_path}", "device=cpu"]) == 2
    assert f"{tmp_path}: no mocap_spin.pt to evaluate" in capsys.readouterr().err
    with pytest.raises(MocapHMRError, match="eval.align='none' is not one of pelvis, hips"):
        smpl_protocol("none")


def test_prediction_cache_recomputes_on_a_new_key_or_a_cut_file(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"rotmat": np.zeros((2, 24, 3, 3)), "betas": np.zeros((2, 10)), "camera": np.zeros((2, 3))}

    assert cached_predictions(tmp_path, "a", "k1", compute)[1] is False
    assert cached_predictions(tmp_path, "a", "k1", compute)[1] is True
    assert cached_predictions(tmp_path, "a", "k2", compute)[1] is False
    (tmp_path / "a.npz").write_bytes((tmp_path / "a.npz").read_bytes()[:100])
    assert cached_predictions(tmp_path, "a", "k2", compute)[1] is False
    assert len(calls) == 3


def test_refine_tracks_puts_gaps_back_into_the_timeline():
    model = build_posebert("paper", max_len=8, dim=16, depth=1, heads=2, hidden=16).eval()
    rotmat = torch.linalg.qr(torch.randn(7, 24, 3, 3, generator=torch.Generator().manual_seed(0)))[0]
    rotmat = rotmat * torch.det(rotmat)[..., None, None]  # proper rotations
    frames = np.array([10, 11, 14, 15, 16, 3, 4])  # track 0: frames 10-16 with a gap; track 1: frames 3-4
    sequences = [np.array([0, 1, 2, 3, 4]), np.array([5, 6])]
    got = refine_tracks(rotmat, sequences, frames, make_smoother("posebert", model))
    full = torch.full((7, 24, 3, 3), float("nan"))
    full[[0, 1, 4, 5, 6]] = rotmat[:5]
    torch.testing.assert_close(got[:5], refine(full, model)[[0, 1, 4, 5, 6]])
    torch.testing.assert_close(got[5:], refine(rotmat[5:], model))


def test_mpvpe_compares_body_frame_meshes_without_alignment(tiny_body_dir):
    from mocap_hmr.body import BodyModel
    from mocap_hmr.evaluation.scoring import body_points, score_frames
    from mocap_hmr.geometry import axis_angle_to_matrix
    from mocap_hmr.metrics import Protocol

    body = BodyModel(tiny_body_dir)
    gen = torch.Generator().manual_seed(0)
    rotmat = axis_angle_to_matrix(0.3 * torch.randn(3, 24, 3, generator=gen))
    pred_v, pred_j = body_points(body, rotmat, torch.zeros(3, 10))
    gt_v, gt_j = body_points(body, rotmat, torch.randn(3, 10, generator=gen))  # other shapes: other pelvises
    scores = score_frames(pred_j, gt_j, Protocol("lsp14", "pelvis"), pred_v, gt_v)
    expected = np.linalg.norm(pred_v.double().numpy() - gt_v.double().numpy(), axis=-1).mean(-1) * 1000
    np.testing.assert_allclose(scores["mpvpe"], expected, rtol=1e-9)
    pelvis_aligned = (pred_v - pred_j[:, :1]) - (gt_v - gt_j[:, :1])
    assert not np.allclose(scores["mpvpe"], pelvis_aligned.norm(dim=-1).mean(-1).double().numpy() * 1000, rtol=1e-3)
