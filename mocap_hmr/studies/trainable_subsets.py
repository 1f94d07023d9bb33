"""``trainable-subsets`` (the paper's Table 7): which parameters to fine-tune.

Copies of the starting model are fine-tuned on the same batches (``mocap_spin.synthetic_fraction``
rendered, the rest real or real-domain crops) for the same steps, at ``study.lr`` or the subset's
own ``study.subset_lr``, each training one subset of ``mocap_hmr.choices.TRAINABLE``
(``study.subsets``); a control fine-tunes every parameter as long on real (real-domain) batches
alone. All of them and the starting model are scored on the embedded world's three image sets
(and ``eval.real``). The paper's answer: batch-norm only (MoCap-SPIN) beats fine-tuning every parameter.
"""

from __future__ import annotations

from omegaconf import DictConfig

from mocap_hmr.evaluation.benchmark_eval import Method
from mocap_hmr.models.finetune import select_trainable
from mocap_hmr.models.hmr import HMR
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

NAME = "trainable-subsets"
START = "starting model"
CONTROL = "all, no rendered half (control)"


def trainable_counts(backbone: str, modes: list[str]) -> tuple[dict[str, int], int]:
    """Trainable parameters of HMR(``backbone``) per mode, and the total."""
    model = HMR(backbone)
    return {mode: select_trainable(model, mode) for mode in modes}, sum(p.numel() for p in model.parameters())


def run(cfg: DictConfig, log=print) -> StudyOutput:
    subsets = list(cfg.study.subsets)
    study = StudyContext.open(cfg, NAME, log)
    start = starting_model(study)
    spin = cfg.mocap_spin
    n_synthetic = round(spin.batch_size * spin.synthetic_fraction)

    def halves(repeat: int):
        return (study.stream("synthetic", n_synthetic, repeat=repeat),
                study.stream("real", spin.batch_size, repeat=repeat))

    def lr_of(mode: str) -> float:
        return cfg.study.subset_lr.get(mode, cfg.study.lr)

    methods = [(START, [Method(START, start)])]
    methods += [train_repeats(study, mode, fine_tune_config(study, start, trainable=mode, lr=lr_of(mode)), halves)
                for mode in subsets]
    # the control: every parameter, as many steps, without the rendered half (the same real samples first)
    control = fine_tune_config(study, start, trainable="all", synthetic_fraction=0.0, lr=lr_of("all"))
    methods.append(train_repeats(study, CONTROL, control, lambda repeat: (None, halves(repeat)[1])))
    raw = evaluate_models(study, [m for _, models in methods for m in models])
    scores = Scores.of(raw, methods, study.diverged)
    results = scores.pooled()

    counts, total = trainable_counts(spin.backbone, [*subsets, "all"])
    rows = [{"subset": f"{START} (not fine-tuned)", **metric_cells(results, START)}]
    for name, mode in [*((m, m) for m in subsets), (CONTROL, "all")]:
        rows.append({"subset": name, "trainable": counts[mode], "share": f"{100 * counts[mode] / total:.2f}%",
                     "lr": f"{lr_of(mode):g}", **metric_cells(results, name), **scores.cells(name, START)})
    columns = [Column("subset", "Trainable subset"), Column("trainable", "Trainable parameters"),
               Column("share", "Share"), Column("lr", "Learning rate"), *metric_columns(results),
               *scores.columns(START)]
    real_half = "real" if study.real_data else "real-domain"
    notes = [f"every subset fine-tuned from the starting model ({start}) for {cfg.study.steps} steps at its "
             f"learning rate (study.lr {cfg.study.lr:g}, study.subset_lr where set), batch {spin.batch_size} "
             f"({n_synthetic} rendered + {spin.batch_size - n_synthetic} {real_half}), the same batches for every "
             "subset",
             f"'{CONTROL}': every parameter, the same steps, batches of {spin.batch_size} {real_half} samples only "
             "(the same ones first): what the fine-tuning gives without rendered data",
             f"{spin.backbone} backbone: {total:,} parameters", *scores.notes()]
    files = write_table(study.folder, "Trainable subsets (Table 7)", columns, rows, notes, results,
                        extra={"runs": [r.as_dict() for r in raw]})
    series = {b: [scores.score(m, benchmark=b) for m in [*subsets, CONTROL]] for b in benchmarks(results)}
    reference = (START, scores.score(START)) if len(series) == 1 else None
    files["picture"] = save_png(bar_chart([*subsets, "all, control"], series, "PA-MPJPE after fine-tuning each subset",
                                          "PA-MPJPE (mm)", reference), study.folder / "trainable_subsets.png")
    files["differences"] = save_png(difference_chart(
        [*subsets, "all, control"], [scores.delta(name, START) for name in [*subsets, CONTROL]],
        [scores.verdict(name, START) for name in [*subsets, CONTROL]],
        f"{HEADLINE} PA-MPJPE minus the starting model's ({scores.seeds} seed(s))", "difference (mm), ± 2 s.e."),
        study.folder / "trainable_subsets_differences.png")
    return StudyOutput(NAME, study.folder, files, _summary(scores, subsets))


def _summary(scores: Scores, subsets: list[str]) -> str:
    line = ", ".join(f"{m} {scores.score_text(m)}" for m in subsets)
    text = (f"{NAME}: {HEADLINE} PA-MPJPE (mm): {START} {scores.score_text(START)}; {line}; {CONTROL} "
            f"{scores.score_text(CONTROL)}. Lowest subset: {scores.lowest(subsets) or 'none (every one diverged)'}.")
    if "bn" in subsets and "all" in subsets:
        verdict = {"lower": "beats", "higher": "is beaten by", "tied": "ties with",
                   "diverged": "cannot be compared with"}[scores.verdict("bn", "all")]
        text += (f" BN-only {verdict} all-parameter fine-tuning (difference "
                 f"{scores.delta_text('bn', 'all')} mm, 2 standard errors decide; {scores.seeds} seed(s)).")
    return text
