"""``oracle`` (the paper's Table 2): how close to the test distribution must the renderings be?

**An oracle: these variants train on the test set's own ground truth.** Copies of the starting
model are fine-tuned (``study.trainable``: batch norm, as MoCap-SPIN, by default;
``mocap_spin.synthetic_fraction`` rendered) with a rendered
half that takes more and more from the embedded pose-gap test set (``study.oracle_levels``, each
level adding to the ones before):

- ``pose``: the test samples' body poses (joints 1-23) and shapes; the global orientation from
  a frame of the training motion, the camera and crop from the renderer's samplers;
- ``orientation``: + the test samples' global orientation (their root in the world);
- ``camera``: + their view rotation, focal length and crop (the stored scene, exactly);
- ``appearance``: + the test set's look (the real domain's suit on grey walls, no photometric augmentation).

against the default rendered half (poses of the training motion). Their scores bound what
better-matched synthetic data could give; they are not results.
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig

from mocap_hmr.choices import ORACLE_LEVELS
from mocap_hmr.data.crop_batch import CropBatch
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.evaluation.benchmark_eval import Method
from mocap_hmr.evaluation.embedded import embedded_image_set, real_look_renderer
from mocap_hmr.paths import slug
from mocap_hmr.studies.rerender import StoredScenes, render_scenes, stored_scenes
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
from renderers.synthetic import SyntheticRenderer
from samplers.poses import PoseSampler

NAME = "oracle"
START = "starting model"
DEFAULT = "training motion"
LABELS = {"pose": "oracle: test poses", "orientation": "oracle: + orientation", "camera": "oracle: + camera",
          "appearance": "oracle: + appearance"}
SOURCES = {DEFAULT: "poses of the training motion, the renderer's cameras, crops and look",
           "pose": "test poses (joints 1-23) and shapes; training-motion orientation; sampled camera, crop",
           "orientation": "test poses, shapes and global orientation; sampled camera and crop",
           "camera": "test scenes as stored (pose, shape, orientation, camera, crop); training look",
           "appearance": "test scenes as stored, in the test set's look (suit, grey walls, no augmentation)"}


class OracleSource:
    """Renderings of test scenes drawn uniformly (with replacement), up to ``level`` of
    ``ORACLE_LEVELS``: ``sample(n, generator) -> CropBatch`` like the renderer's."""

    def __init__(self, renderer: SyntheticRenderer, scenes: StoredScenes, level: str, poses: PoseSampler):
        self.renderer, self.scenes, self.level, self.poses = renderer, scenes, ORACLE_LEVELS.index(level), poses

    def sample(self, n: int, generator: torch.Generator) -> CropBatch:
        pick = torch.randint(len(self.scenes), (n,), generator=generator, device=self.scenes.pose.device)
        if self.level >= ORACLE_LEVELS.index("camera"):
            return render_scenes(self.renderer, self.scenes, pick, generator)
        pose = self.scenes.pose[pick].clone()
        if self.level < ORACLE_LEVELS.index("orientation"):
            pose[:, 0] = self.poses.sample(n, generator)["pose"][:, 0]
        cams = self.renderer.views(n, generator)
        return render_scenes(self.renderer, self.scenes, pick, generator, view=cams["R"], focal=cams["focal"],
                             pose=pose)


def run(cfg: DictConfig, log=print) -> StudyOutput:
    levels = [lv for lv in ORACLE_LEVELS if lv in cfg.study.oracle_levels]
    study = StudyContext.open(cfg, NAME, log)
    start = starting_model(study)
    spin = cfg.mocap_spin
    n_synthetic = round(spin.batch_size * spin.synthetic_fraction)
    if n_synthetic == 0:
        raise MocapHMRError("oracle: mocap_spin.synthetic_fraction=0 leaves no rendered half to make an oracle of")
    trainable = cfg.study.trainable
    spin_cfg = fine_tune_config(study, start, trainable=trainable)
    folder = study.folder / "variants" / slug(trainable)
    data = embedded_image_set(study.body, HEADLINE, cfg.render.image_size, n=cfg.eval.image_samples,
                              device=study.device, log=log)
    scenes = stored_scenes(data, cfg.render.image_size)
    renderer = study.sources(spin.batch_size - n_synthetic)[0]

    def halves(level: str | None):
        """(synthetic, real) streams of each repeat for an oracle level (None: the default half)."""
        look = real_look_renderer(study.body, study.index, cfg.render.image_size, cfg.render.backend) \
            if level == "appearance" else renderer
        return lambda repeat: (
            study.stream("synthetic", n_synthetic, repeat=repeat) if level is None else
            study.stream("custom", n_synthetic, source=OracleSource(look, scenes, level, renderer.poses),
                         repeat=repeat),
            study.stream("real", spin.batch_size - n_synthetic, repeat=repeat))

    methods = [(START, [Method(START, start)]),
               train_repeats(study, DEFAULT, spin_cfg, halves(None), folder / slug(DEFAULT))]
    methods += [train_repeats(study, LABELS[lv], spin_cfg, halves(lv), folder / slug(LABELS[lv]),
                              synthetic_label=f"oracle {lv} of {data.path.name}") for lv in levels]
    raw = evaluate_models(study, [m for _, models in methods for m in models])
    scores = Scores.of(raw, methods, study.diverged)
    results = scores.pooled()

    rows = [{"variant": f"{START} (not fine-tuned)", **metric_cells(results, START)},
            {"variant": DEFAULT, "source": SOURCES[DEFAULT], **metric_cells(results, DEFAULT),
             "spread": scores.spread(DEFAULT)}]
    rows += [{"variant": LABELS[lv], "source": SOURCES[lv], **metric_cells(results, LABELS[lv]),
              **scores.cells(LABELS[lv], DEFAULT)} for lv in levels]
    columns = [Column("variant", "Variant"), Column("source", "Rendered half"), *metric_columns(results),
               *scores.columns(DEFAULT)]
    notes = ["ORACLE: the 'oracle:' variants train on the ground truth of the test set they are scored on; they "
             "bound what better-matched renderings could give and are not results",
             f"each fine-tunes '{trainable}' of the starting model ({start}) for {cfg.study.steps} steps at lr "
             f"{cfg.study.lr:g}, {n_synthetic} rendered + {spin.batch_size - n_synthetic} "
             + ("real" if study.real_data else "real-domain") + " samples per batch (the same real half for all)",
             *scores.notes()]
    files = write_table(study.folder, f"Oracle: rendering the test distribution (Table 2), fine-tuning '{trainable}'",
                        columns, rows, notes, results, extra={"runs": [r.as_dict() for r in raw]})
    names = [DEFAULT, *(LABELS[lv] for lv in levels)]
    series = {b: [scores.score(m, benchmark=b) for m in names] for b in benchmarks(results)}
    reference = (START, scores.score(START)) if len(series) == 1 else None
    files["picture"] = save_png(bar_chart(names, series, "Oracle: rendered half closer and closer to the test set",
                                          "PA-MPJPE (mm)", reference), study.folder / "oracle.png")
    files["differences"] = save_png(difference_chart(
        [LABELS[lv] for lv in levels], [scores.delta(LABELS[lv], DEFAULT) for lv in levels],
        [scores.verdict(LABELS[lv], DEFAULT) for lv in levels],
        f"{HEADLINE} PA-MPJPE minus '{DEFAULT}' ({scores.seeds} seed(s))", "difference (mm), ± 2 s.e."),
        study.folder / "oracle_differences.png")
    summary = (f"{NAME} (ORACLE, trains on test ground truth; '{trainable}', {scores.seeds} seed(s)): {HEADLINE} "
               f"PA-MPJPE (mm): " + ", ".join(f"{m} {scores.score_text(m)}" for m in [START, *names])
               + "; against the training motion: "
               + ", ".join(f"{LABELS[lv]} {scores.delta_text(LABELS[lv], DEFAULT)}" for lv in levels) + ".")
    return StudyOutput(NAME, study.folder, files, summary)
