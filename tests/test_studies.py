"""The studies (``mocap-hmr study NAME``) at tiny sizes: tables, pictures and summaries;
variants reused on a rerun and retrained when their settings change; shared streams;
re-rendered test scenes; bad settings named by key."""

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.cli import main
from mocap_hmr.data.crop_batch import CropBatch
from mocap_hmr.data.embedded_world import PHOTO_CAMERAS
from mocap_hmr.data.motion_index import load_index
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.evaluation.benchmark_eval import Method
from mocap_hmr.evaluation.embedded import image_test_set, real_domain_renderer, real_look_renderer
from mocap_hmr.evaluation.results import Result
from mocap_hmr.models.finetune import select_trainable
from mocap_hmr.models.hmr import HMR
from mocap_hmr.studies import run_study
from mocap_hmr.studies.rerender import render_scenes, stored_scenes
from mocap_hmr.studies.scores import Scores, paired_delta
from mocap_hmr.studies.settings import load_study_config
from mocap_hmr.studies.streams import SharedStream
from mocap_hmr.studies.tables import WORLD_SETS
from mocap_hmr.training.mocap_spin import MocapSpinTrainer


@pytest.fixture(scope="module")
def setup(tiny_corpus, tmp_path_factory):
    return (*tiny_corpus, tmp_path_factory.mktemp("studies"))


def overrides(setup, **changes):
    body_dir, index, out = setup
    items = {"out_dir": str(out), "device": "cpu", "body.model_path": str(body_dir), "motion.index": str(index),
             "render.image_size": 32, "render.backend": "torch", "render.texture_size": 32,
             "mocap_spin.backbone": "tiny",
             "stand_in_spin.enabled": False, "stand_in_spin.images": 16,
             "mocap_spin.batch_size": 4, "mocap_spin.lr_milestones": "[]",
             "posebert.enabled": False, "eval.image_samples": 8, "eval.batch_size": 8,
             "study.start_steps": 2, "study.steps": 2, **changes}
    return [f"{k}={v}" for k, v in items.items()]


def study_config(setup, **changes):
    return load_study_config(None, overrides(setup, **changes))


def quiet(message):
    pass


def test_trainable_subsets_table_picture_and_reuse(setup):
    cfg = study_config(setup, **{"study.subsets": "[bn,all]"})
    out = run_study("trainable-subsets", cfg, log=quiet)
    table = json.loads(out.files["json"].read_text())
    control = "all, no rendered half (control)"
    assert [r["subset"] for r in table["rows"]] == ["starting model (not fine-tuned)", "bn", "all", control]
    model = HMR("tiny")
    assert table["rows"][1]["trainable"] == select_trainable(model, "bn")
    assert table["rows"][2]["trainable"] == sum(p.numel() for p in model.parameters())
    assert {r["method"] for r in table["results"]} == {"starting model", "bn", "all", control}
    markdown = out.files["markdown"].read_text()
    assert "| bn | 672 | 0.04% |" in markdown and "lsp14 joints, pelvis-aligned" in markdown
    assert out.files["picture"].read_bytes()[:4] == b"\x89PNG" and out.files["differences"].is_file()
    assert "BN-only" in out.summary and "embedded-pose-gap PA-MPJPE" in out.summary
    assert {r["benchmark"] for r in table["results"]} == {"embedded-in-coverage", "embedded-pose-gap",
                                                          "embedded-view-gap"}
    assert all("±" in table["rows"][1][f"delta {b}"] for b in WORLD_SETS)

    weights = {m: out.folder / "variants" / m / "mocap_spin.pt" for m in ("bn", "all", "all_no_rendered_half_control")}
    stamps = {m: p.stat().st_mtime_ns for m, p in weights.items()}
    start = out.folder.parent / "start" / "mocap_spin.pt"
    start_stamp = start.stat().st_mtime_ns
    run_study("trainable-subsets", cfg, log=quiet)  # nothing to train again
    assert {m: p.stat().st_mtime_ns for m, p in weights.items()} == stamps
    own_lr = study_config(setup, **{"study.subsets": "[bn,all]", "study.subset_lr": "{all: 0.0005}"})
    rows = json.loads(run_study("trainable-subsets", own_lr, log=quiet).files["json"].read_text())["rows"]
    assert [r["lr"] for r in rows[1:]] == [f"{cfg.study.lr:g}", "0.0005", "0.0005"]  # the control takes all's
    assert weights["bn"].stat().st_mtime_ns == stamps["bn"]  # its rate unchanged: reused
    assert all(weights[m].stat().st_mtime_ns != stamps[m] for m in ("all", "all_no_rendered_half_control"))
    stamps = {m: p.stat().st_mtime_ns for m, p in weights.items()}
    run_study("trainable-subsets", study_config(setup, **{"study.subsets": "[bn]", "study.steps": 3}), log=quiet)
    assert weights["bn"].stat().st_mtime_ns != stamps["bn"]  # other settings: trained again
    assert start.stat().st_mtime_ns == start_stamp  # the starting model is shared and kept


def test_a_diverged_subset_is_a_row_and_is_not_trained_again(setup, tmp_path, monkeypatch):
    original, trained = MocapSpinTrainer.losses, []

    def poisoned(self, batch):  # every model at lr 7e-4 diverges at its second step
        terms = original(self, batch)
        trained.append(self.cfg.lr)
        if self.cfg.lr == 7e-4 and trained.count(7e-4) % 2 == 0:
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    monkeypatch.setattr(MocapSpinTrainer, "losses", poisoned)
    cfg = study_config(setup, **{"out_dir": str(tmp_path), "study.subsets": "[bn,all]",
                                 "study.subset_lr": "{all: 0.0007}", "study.seeds": 2})
    out = run_study("trainable-subsets", cfg, log=quiet)
    table = json.loads(out.files["json"].read_text())
    control = "all, no rendered half (control)"
    rows = {r["subset"]: r for r in table["rows"]}
    assert list(rows) == ["starting model (not fine-tuned)", "bn", "all", control]  # every subset keeps its row
    assert rows["all"]["delta embedded-pose-gap"] == "diverged" and rows["all"]["spread"] is None
    assert "embedded-pose-gap pa_mpjpe" not in rows["all"] and "±" in rows["bn"]["delta embedded-pose-gap"]
    assert {r["method"] for r in table["results"]} == {"starting model", "bn"}
    assert "'all' diverged (loss nan at step 2 of 2, seed 0, lr 0.0007)" in " ".join(table["notes"])
    assert "| all | " in out.files["markdown"].read_text() and out.files["differences"].is_file()
    assert "all diverged" in out.summary and "BN-only cannot be compared with" in out.summary
    assert not (out.folder / "variants" / "all_seed1").exists()  # the second seed of a diverged subset: not tried
    record = json.loads((out.folder / "variants" / "all" / "diverged.json").read_text())
    assert record["step"] == 2 and record["loss"] == "nan" and record["settings"]["mocap_spin"]["lr"] == 7e-4
    steps = len(trained)
    again = run_study("trainable-subsets", cfg, log=quiet)  # the same settings: nothing trains, the same rows
    assert len(trained) == steps and json.loads(again.files["json"].read_text())["rows"] == table["rows"]


def test_scores_of_a_diverged_variant_are_nan_and_say_so():
    start, bn = _result("start", [2.0, 3.0]), _result("bn", [1.0, 3.0])
    methods = [("start", [Method("start", Path("s.pt"))]), ("bn", [Method("bn", Path("b.pt"))]), ("all", [])]
    scores = Scores.of([start, bn], methods, {"all": "loss nan at step 2"})
    assert scores.score("bn") == 2.0 and math.isnan(scores.score("all")) and scores.score_text("all") == "diverged"
    assert all(math.isnan(v) for v in scores.delta("all", "start")) and scores.verdict("all", "start") == "diverged"
    assert scores.delta_text("bn", "all") == "'all' diverged" and scores.lowest(["all", "bn", "start"]) == "bn"
    assert scores.lowest(["all"]) is None and scores.spread("all") is None
    assert scores.notes()[-1].startswith("'all' diverged (loss nan at step 2)")
    with pytest.raises(MocapHMRError, match=r"no models and no divergence recorded for \['all'\]"):
        Scores.of([start, bn], methods)


def test_synthetic_fraction_curve_over_two_seeds(setup):
    cfg = study_config(setup, **{"study.fractions": "[0,0.5,1]", "study.seeds": 2})
    out = run_study("synthetic-fraction", cfg, log=quiet)
    table = json.loads(out.files["json"].read_text())
    rows = table["rows"]
    assert [r.get("rendered") for r in rows] == [None, 0, 2, 4]
    assert all("±" in r["delta embedded-pose-gap"] and r["spread"] >= 0 for r in rows[1:])
    assert len(table["runs"]) == (1 + 3 * 2) * len(WORLD_SETS) and "over 2 seeds" in table["notes"][-1]
    pooled = {r["method"]: r["metrics"]["pa_mpjpe"] for r in table["results"]}
    runs = {r["method"]: r["metrics"]["pa_mpjpe"] for r in table["runs"]}
    assert pooled["50% rendered"] == pytest.approx((runs["50% rendered"] + runs["50% rendered (seed 1)"]) / 2)
    assert (out.folder / "variants" / "bn" / "50_rendered_seed1" / "mocap_spin.pt").is_file()
    assert out.files["picture"].is_file() and "by fraction rendered" in out.summary


def test_oracle_variants_are_labelled(setup):
    out = run_study("oracle", study_config(setup, **{"study.oracle_levels": "[pose,camera]"}), log=quiet)
    table = json.loads(out.files["json"].read_text())
    assert [r["variant"] for r in table["rows"]] == ["starting model (not fine-tuned)", "training motion",
                                                      "oracle: test poses", "oracle: + camera"]
    assert table["notes"][0].startswith("ORACLE") and "ORACLE" in out.summary
    assert (out.folder / "variants" / "bn" / "oracle_+_camera" / "variant.json").is_file()


def test_rendered_poses_compares_mocap_with_the_real_domains_poses(setup):
    out = run_study("rendered-poses", study_config(setup), log=quiet)
    table = json.loads(out.files["json"].read_text())
    rows = table["rows"]
    assert [r["variant"] for r in rows] == ["starting model (not fine-tuned)", "MoCap poses rendered",
                                            "real-domain poses rendered", "no rendered half (control)",
                                            "MoCap poses rendered minus real-domain poses rendered"]
    identity = json.loads((out.folder / "variants" / "bn" / "real-domain_poses_rendered" / "variant.json").read_text())
    assert identity["synthetic"].startswith("real-domain corpus walk")
    control = json.loads((out.folder / "variants" / "bn" / "no_rendered_half_control" / "variant.json").read_text())
    assert control["synthetic"] is None and control["mocap_spin"]["synthetic_fraction"] == 0.0
    pooled = {(r["method"], r["benchmark"]): r["metrics"]["pa_mpjpe"] for r in table["results"]}
    mocap, real = (pooled["MoCap poses rendered", "embedded-pose-gap"],
                   pooled["real-domain poses rendered", "embedded-pose-gap"])
    assert rows[-1]["delta embedded-pose-gap"].startswith(f"{mocap - real:+.2f}")  # one seed: the paired mean
    assert out.files["differences"].is_file() and "real domain's poses" in out.summary
    with pytest.raises(MocapHMRError, match="synthetic_fraction=0 leaves no rendered half"):
        run_study("rendered-poses", study_config(setup, **{"mocap_spin.synthetic_fraction": 0.0}), log=quiet)


def test_rendered_poses_in_the_real_domains_look(setup):
    out = run_study("rendered-poses", study_config(setup, **{"study.rendered_look": "real"}), log=quiet)
    assert out.folder.name == "rendered-poses-real-look"  # the training look's table stays
    variants = out.folder / "variants" / "bn"
    mocap = json.loads((variants / "mocap_poses_rendered" / "variant.json").read_text())["synthetic"]
    real = json.loads((variants / "real-domain_poses_rendered" / "variant.json").read_text())["synthetic"]
    assert mocap == "MoCap corpus in the real domain's look and cameras"
    assert real.startswith("real-domain corpus walk") and real.endswith("in the real domain's look and cameras")
    table = json.loads(out.files["json"].read_text())
    assert table["title"].endswith("'bn', real look") and "the real domain's look, cameras" in table["notes"][1]
    body = BodyModel(setup[0])
    renderer = real_domain_renderer(body, load_index(setup[1]), 32)
    assert renderer.augment is not None
    assert renderer.cameras.limits[1] == pytest.approx(math.radians(PHOTO_CAMERAS["pitch"]))
    with pytest.raises(MocapHMRError, match="study.rendered_look"):
        study_config(setup, **{"study.rendered_look": "photo"})


def test_synthetic_gap_grid(setup):
    cfg = study_config(setup, **{"study.backgrounds": "[black,noise]", "study.bodies": "[grey,skin]"})
    out = run_study("synthetic-gap", cfg, log=quiet)
    rows = json.loads(out.files["json"].read_text())["rows"]
    assert [(r["background"], r["body"].split(",")[0].split(" (")[0]) for r in rows[:4]] == [
        ("black", "grey"), ("black", "bare skin"), ("pixel noise", "grey"), ("pixel noise", "bare skin")]
    assert rows[4]["background"] == "stored test set"
    assert out.files["picture"].is_file() and out.files["preview"].is_file()
    assert "the starting model" in out.summary


def test_synthetic_gap_re_renders_the_test_set_it_is_given(setup):
    cfg = study_config(setup, **{"study.backgrounds": "[grey]", "study.bodies": "[suit]",
                                 "study.test_set": "in-coverage"})
    table = json.loads(run_study("synthetic-gap", cfg, log=quiet).files["json"].read_text())
    assert "embedded-in-coverage test set" in table["notes"][1]
    stored = [r for r in table["results"] if r["benchmark"] == "embedded-in-coverage"]
    assert len(stored) == 1 and table["rows"][-1]["pa_mpjpe"] == stored[0]["metrics"]["pa_mpjpe"]
    assert "embedded-pose-gap" not in {r["benchmark"] for r in table["results"]}
    with pytest.raises(MocapHMRError, match="study.test_set"):
        study_config(setup, **{"study.test_set": "video"})


def test_rerendered_scenes_keep_pose_camera_and_crop(setup):
    body = BodyModel(setup[0])
    data = image_test_set(body, 32, n=8, log=quiet)
    from mocap_hmr.data.motion_index import load_index

    renderer = real_look_renderer(body, load_index(setup[1]), 32)
    batch = render_scenes(renderer, stored_scenes(data, 32), torch.arange(8), torch.Generator().manual_seed(9))
    for key in ("focal", "principal", "camera", "pose", "cam_t"):
        torch.testing.assert_close(getattr(batch, key), getattr(data, key), atol=1e-4, rtol=1e-4)


class _Counter:
    """A source whose samples say which call and position they came from."""

    def __init__(self):
        self.calls = 0

    def sample(self, n, generator):
        self.calls += 1
        value = torch.rand(n, generator=generator)
        fields = {k: torch.zeros(n, 1) for k in CropBatch.__dataclass_fields__}
        return CropBatch(**{**fields, "images": value[:, None]})


@pytest.mark.parametrize("budget", [0, 2**20])
def test_shared_stream_replays_the_same_prefixes(budget):
    source = _Counter()
    stream = SharedStream(source, width=4, seed=5, device=torch.device("cpu"), budget_bytes=budget)
    first = [stream.sample(4).images for _ in range(3)]
    stream.rewind()
    again = [stream.sample(2).images for _ in range(3)]
    assert all(torch.equal(a[:2], b) for a, b in zip(first, again, strict=True))
    assert source.calls == (3 if budget else 6)  # replayed from memory, or rendered again from the seed
    with pytest.raises(ValueError, match="its batches have 4"):
        stream.sample(5)


def _result(method, values):
    return Result(method, "embedded-pose-gap", "image", {}, {"pa_mpjpe": float(np.mean(values))},
                  {"pa_mpjpe": np.array(values, dtype=float)})


def test_differences_between_variants():
    a, b = _result("a", [1.0, 2.0, 3.0]), _result("b", [0.0, 2.0, 2.0])
    mean, se = paired_delta(a, b)
    assert mean == pytest.approx(2 / 3) and se == pytest.approx((1 / 3) ** 0.5 / 3 ** 0.5)
    one = Scores([a, b], {"a": ["a"], "b": ["b"]})
    assert one.delta("a", "b") == pytest.approx((mean, se)) and one.spread("a") is None
    runs = [a, _result("a (seed 1)", [2.0, 2.0, 3.0]), b, _result("b (seed 1)", [1.0, 1.0, 2.0])]
    two = Scores(runs, {"a": ["a", "a (seed 1)"], "b": ["b", "b (seed 1)"]})
    assert two.delta("a", "b") == pytest.approx((5 / 6, 1 / 6))  # per-seed differences 2/3 and 1
    pooled = two.pooled()[0]
    assert pooled.method == "a" and pooled.per_sample["pa_mpjpe"] == pytest.approx([1.5, 2.0, 3.0])
    assert two.verdict("a", "b") == "higher" and two.spread("a") == pytest.approx((1 / 3) / 2 ** 0.5)


def test_cli_runs_a_study_and_names_bad_keys(setup, capsys):
    assert main(["study", "trainable-subsets", *overrides(setup, **{"study.subsets": "[bn]"})]) == 0
    printed = capsys.readouterr().out
    assert "trainable-subsets: embedded-pose-gap PA-MPJPE" in printed and "table.md" in printed
    assert main(["study", "trainable-subsets", *overrides(setup, **{"study.subsets": "[nope]"})]) == 2
    assert "study.subsets=['nope']: expected a list of at least one of bn, bn+regressor" in capsys.readouterr().err
    assert main(["study", "trainable-subsets", *overrides(setup, **{"study.subset_lr": "{nope: 1.0}"})]) == 2
    assert "study.subset_lr={'nope': 1.0}: expected a mapping of keys among bn, bn+regressor" in capsys.readouterr().err
    assert main(["study", "trainable-subsets", *overrides(setup, **{"study.subset_lr": "{all: -1.0}"})]) == 2
    assert "expected a mapping of a finite number > 0 (learning rate); all: -1.0 is not" in capsys.readouterr().err
    assert main(["study", "oracle", *overrides(setup, **{"study.stepz": 3})]) == 2
    assert "keys of study: start_steps" in capsys.readouterr().err
    with pytest.raises(MocapHMRError, match="study.fractions"):
        run_study("synthetic-fraction", study_config(setup, **{"study.fractions": "[1.5]"}), log=quiet)
