"""``rendered-poses`` (the rows of the paper's Table 1): which poses to render.

Copies of the starting model are fine-tuned (``study.trainable``, batch norm by default) on
batches whose rendered half (``mocap_spin.synthetic_fraction``) shows either

- the MoCap corpus (every motion family: MoCap-SPIN's default), or
- the real domain's own motion (its corpus and families, ``data.embedded_world``): what
  rendering the poses of the real training images gives,

both in the training renderer's look, from its cameras, or (``study.rendered_look=real``; its
study folder ``rendered-poses-real-look``) in the real domain's look, cameras, crops and
augmentation (``evaluation.embedded.real_domain_renderer``), so that mainly the poses differ
from the real half; the rest of each batch is the same real-domain half. A control fine-tunes
as long on the real half alone. The paper: rendering MoCap poses helps more than rendering the
poses the real images already show; in the embedded world the difference should show on the
pose-gap set. It needs the embedded world's real domain (``mocap_spin.real`` empty): SPIN's
datasets come with no motion corpus of their own poses.
"""

from __future__ import annotations

from omegaconf import DictConfig

from mocap_hmr.data.embedded_world import real_domain_corpus, real_motion_index, real_motion_words
from mocap_hmr.data.motion_index import load_index
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.evaluation.benchmark_eval import Method
from mocap_hmr.evaluation.embedded import real_domain_renderer
from mocap_hmr.paths import slug
from mocap_hmr.studies.scores import Scores
from mocap_hmr.studies.tables import HEADLINE, Column, benchmarks, metric_cells, metric_columns, write_table
from mocap_hmr.studies.variants import (
    StudyContext,
    StudyOutput,
    evaluate_models,
    fine_tune_config,
    starting_model,
    train_repeats,
)
from mocap_hmr.vis.charts import bar_chart, difference_chart
from mocap_hmr.vis.figure import save_png
from renderers.build import renderer_from_config

NAME = "rendered-poses"
START = "starting model"
MOCAP = "MoCap poses rendered"
REAL_POSES = "real-domain poses rendered"
CONTROL = "no rendered half (control)"


def run(cfg: DictConfig, log=print) -> StudyOutput:
    spin, trainable = cfg.mocap_spin, cfg.study.trainable
    if spin.real:
        raise MocapHMRError("rendered-poses: mocap_spin.real lists datasets, whose poses have no motion corpus to "
                            "render; the study compares the embedded world's real-domain poses with MoCap poses "
                            "(leave mocap_spin.real empty)")
    n_synthetic = round(spin.batch_size * spin.synthetic_fraction)
    if n_synthetic == 0:
        raise MocapHMRError("rendered-poses: mocap_spin.synthetic_fraction=0 leaves no rendered half to compare")
    look = cfg.study.rendered_look
    study = StudyContext.open(cfg, NAME if look == "training" else f"{NAME}-{look}-look", log)
    start = starting_model(study)
    real_corpus = real_domain_corpus(load_index(real_motion_index(fps=cfg.motion.fps, log=log), device=study.device),
                                     cfg.stand_in_spin.gap_share)
    if look == "real":
        mocap_poses = real_domain_renderer(study.body, study.index, cfg.render.image_size, cfg.render.backend)
        real_poses = real_domain_renderer(study.body, real_corpus, cfg.render.image_size, cfg.render.backend)
        drawn = " in the real domain's look and cameras"
    else:
        mocap_poses, real_poses, drawn = None, renderer_from_config(cfg.render, study.body, real_corpus,
                                                                    study.device), ""

    def real_half(repeat: int):
        return study.stream("real", spin.batch_size - n_synthetic, repeat=repeat)

    def halves(source):
        return lambda repeat: (study.stream("synthetic", n_synthetic, repeat=repeat) if source is None else
                               study.stream("custom", n_synthetic, source=source, repeat=repeat), real_half(repeat))

    spin_cfg = fine_tune_config(study, start, trainable=trainable)
    folder = study.folder / "variants" / slug(trainable)
    methods = [(START, [Method(START, start)]),
               train_repeats(study, MOCAP, spin_cfg, halves(mocap_poses), folder / slug(MOCAP),
                             synthetic_label="motion" if mocap_poses is None else f"MoCap corpus{drawn}"),
               train_repeats(study, REAL_POSES, spin_cfg, halves(real_poses), folder / slug(REAL_POSES),
                             synthetic_label=f"real-domain corpus {real_motion_words(cfg.stand_in_spin.gap_share)}"
                                             f"{drawn}")]
    control = fine_tune_config(study, start, trainable=trainable, synthetic_fraction=0.0)
    methods.append(train_repeats(study, CONTROL, control, lambda repeat: (None, study.stream(
        "real", spin.batch_size, repeat=repeat)), folder / slug(CONTROL)))
    raw = evaluate_models(study, [m for _, models in methods for m in models])
    scores = Scores.of(raw, methods, study.diverged)
    results = scores.pooled()

    variants = [MOCAP, REAL_POSES, CONTROL]
    rows = [{"variant": f"{START} (not fine-tuned)", **metric_cells(results, START)}]
    rows += [{"variant": name, **metric_cells(results, name), **scores.cells(name, START)} for name in variants]
    rows.append({"variant": f"{MOCAP} minus {REAL_POSES}", **{f"delta {b}": scores.delta_text(MOCAP, REAL_POSES,
                                                                                              benchmark=b)
                                                              for b in scores.benchmarks}})
    columns = [Column("variant", "Variant"), *metric_columns(results), *scores.columns(START)]
    notes = [f"each fine-tunes '{trainable}' of the starting model ({start}) for {cfg.study.steps} steps at lr "
             f"{cfg.study.lr:g}, {n_synthetic} rendered + {spin.batch_size - n_synthetic} real-domain samples per "
             f"batch; '{CONTROL}': {spin.batch_size} real-domain samples per batch",
             f"'{MOCAP}': the MoCap corpus, every family; '{REAL_POSES}': the real domain's own corpus "
             f"({real_motion_words(cfg.stand_in_spin.gap_share)}); both in "
             + ("the real domain's look, cameras, crops and augmentation" if look == "real" else
                "the training renderer's look and cameras"),
             "the last row: the paired difference of the two rendered halves (negative: MoCap poses better)",
             *scores.notes()]
    files = write_table(study.folder, f"Rendered poses: MoCap or the real domain's own (Table 1), '{trainable}', "
                        f"{look} look",
                        columns, rows, notes, results, extra={"runs": [r.as_dict() for r in raw]})
    series = {b: [scores.score(m, benchmark=b) for m in variants] for b in benchmarks(results)}
    files["picture"] = save_png(bar_chart(variants, series, "Which poses the rendered half shows", "PA-MPJPE (mm)"),
                                study.folder / "rendered_poses.png")
    files["differences"] = save_png(difference_chart(
        variants, [scores.delta(m, START) for m in variants], [scores.verdict(m, START) for m in variants],
        f"{HEADLINE} PA-MPJPE minus the starting model's ({scores.seeds} seed(s))", "difference (mm), ± 2 s.e."),
        study.folder / "rendered_poses_differences.png")
    verdict = {"lower": "beat", "higher": "lose to", "tied": "tie with",
               "diverged": "cannot be compared with"}[scores.verdict(MOCAP, REAL_POSES)]
    summary = (f"{NAME} ('{trainable}', {scores.seeds} seed(s)): {HEADLINE} PA-MPJPE (mm): "
               + ", ".join(f"{m} {scores.score_text(m)}" for m in [START, *variants])
               + f". Renderings of MoCap poses {verdict} renderings of the real domain's poses "
                 f"({scores.delta_text(MOCAP, REAL_POSES)} mm, 2 standard errors decide).")
    return StudyOutput(NAME, study.folder, files, summary)
