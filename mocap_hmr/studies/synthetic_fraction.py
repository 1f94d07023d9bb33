"""``synthetic-fraction`` (the paper's Figure 6): how much of each batch to render.

Copies of the starting model are fine-tuned (``study.trainable``, batch norm by
default) with ``study.fractions`` of every batch rendered and the rest real (or
real-domain), the same steps, learning rate and samples (a 25% batch holds the first
rendered and real samples of the 50% one); PA-MPJPE and MPJPE on the embedded world's
three image sets (and ``eval.real``) against the fraction. The paper finds an optimum around 50%.
"""

from __future__ import annotations

from omegaconf import DictConfig

from mocap_hmr.errors import MocapHMRError
from mocap_hmr.evaluation.benchmark_eval import Method
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
from mocap_hmr.vis.charts import curve_chart
from mocap_hmr.vis.figure import save_png

NAME = "synthetic-fraction"
START = "starting model"


def label(fraction: float) -> str:
    return f"{100 * fraction:g}% rendered"


def run(cfg: DictConfig, log=print) -> StudyOutput:
    st, spin = cfg.study, cfg.mocap_spin
    fractions = sorted(float(f) for f in st.fractions)
    if not fractions or not all(0.0 <= f <= 1.0 for f in fractions):
        raise MocapHMRError(f"study.fractions: {list(st.fractions)}; each must be in [0, 1]")
    study = StudyContext.open(cfg, NAME, log)
    start = starting_model(study)
    rendered = {f: round(spin.batch_size * f) for f in fractions}

    def halves(repeat: int):
        return (study.stream("synthetic", max(rendered.values()), repeat=repeat),
                study.stream("real", spin.batch_size - min(rendered.values()), repeat=repeat))

    methods = [(START, [Method(START, start)])]
    for f in fractions:
        spin_cfg = fine_tune_config(study, start, trainable=st.trainable, synthetic_fraction=f)
        methods.append(train_repeats(study, label(f), spin_cfg, halves,
                                     folder=study.folder / "variants" / slug(st.trainable) / slug(label(f))))
    raw = evaluate_models(study, [m for _, models in methods for m in models])
    scores = Scores.of(raw, methods, study.diverged)
    results = scores.pooled()

    rows = [{"variant": f"{START} (not fine-tuned)", **metric_cells(results, START)}]
    rows += [{"variant": label(f), "fraction": f"{f:g}", "rendered": rendered[f], **metric_cells(results, label(f)),
              **scores.cells(label(f), START)} for f in fractions]
    columns = [Column("variant", "Variant"), Column("fraction", "Synthetic fraction"),
               Column("rendered", f"Rendered per batch of {spin.batch_size}"), *metric_columns(results),
               *scores.columns(START)]
    other = "real" if study.real_data else "real-domain"
    notes = [f"each fraction fine-tunes '{st.trainable}' of the starting model ({start}) for {st.steps} "
             f"steps at lr {st.lr:g}; the rest of each batch is {other}; the same samples for every fraction",
             *scores.notes()]
    files = write_table(study.folder, f"Synthetic fraction of each batch (Figure 6), fine-tuning '{st.trainable}'",
                        columns, rows, notes, results, extra={"runs": [r.as_dict() for r in raw]})
    panels = [(f"{name} (mm)", {b: [scores.score(label(f), metric, b) for f in fractions]
                                for b in benchmarks(results)})
              for metric, name in (("pa_mpjpe", "PA-MPJPE"), ("mpjpe", "MPJPE"))]
    references = [(f"{START} ({HEADLINE})", scores.score(START, metric)) for metric in ("pa_mpjpe", "mpjpe")]
    files["picture"] = save_png(curve_chart(fractions, panels,
                                            f"Error against the rendered fraction of each batch ('{st.trainable}')",
                                            "fraction of each batch rendered", references),
                                study.folder / "synthetic_fraction.png")
    return StudyOutput(NAME, study.folder, files, _summary(scores, fractions, st.trainable))


def _summary(scores: Scores, fractions: list[float], trainable: str) -> str:
    line = ", ".join(f"{f:g}: {scores.score_text(label(f))}" for f in fractions)
    text = (f"{NAME} ('{trainable}', {scores.seeds} seed(s)): {HEADLINE} PA-MPJPE (mm) by fraction rendered: {line} "
            f"({START} {scores.score_text(START)}). ")
    lowest = scores.lowest([label(f) for f in fractions])
    if lowest is None:
        return text + "Every fraction diverged."
    best = next(f for f in fractions if label(f) == lowest)
    inner = 0 < fractions.index(best) < len(fractions) - 1
    text += f"Lowest at {best:g}" + (", inside the range" if inner else ", at an end of the range")
    ends = [f for f in (fractions[0], fractions[-1]) if f != best]
    if ends:
        text += "; against " + ", ".join(f"{f:g}: {scores.delta_text(label(best), label(f))} mm" for f in ends)
        clear = inner and all(scores.verdict(label(best), label(f)) == "lower" for f in ends)
        text += (" (an optimum: better than both ends by more than 2 standard errors)" if clear else
                 " (not better than both ends by 2 standard errors: no clear optimum)" if inner else "")
    return text + "."
