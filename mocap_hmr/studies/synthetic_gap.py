"""``synthetic-gap`` (the paper's Figure 9): how much the look of a rendering costs.

One model is scored on an embedded test set (``study.test_set``: the pose-gap set unless told
otherwise) rendered again with every combination of
``study.backgrounds`` and ``study.bodies``: the same poses, shapes, cameras and crops as the
stored set (``rerender.stored_scenes``), only the appearance drawn anew. Backgrounds: ``black``;
``grey`` (one grey level each: the stored set's plain walls); ``noise`` (uniform random pixels:
random, but no scene); ``scenes`` (the renderer's default: procedural rooms, or the
photographs of ``render.backgrounds``). Our sampler's "random"
backgrounds *are* its procedural rooms, so the paper's random-vs-photo pair becomes
noise-vs-scenes here. Bodies: ``grey`` (untextured, shaded: the paper's "metallic"), ``skin``
(the body's bare skin textures), ``suit`` (the part-coloured suit: the stored set's look) and
``clothed`` (skin with procedural clothes, as the training renderer draws them, or
``render.textures``).

The model: ``study.weights``, else the run's ``<out_dir>/mocap_spin.pt`` when ``train.py``
wrote one, else the starting model. The stored set is scored too, as the reference.
"""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig

from mocap_hmr.data.motion_index import load_index
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.evaluation.benchmark_eval import Method, evaluate_benchmark
from mocap_hmr.evaluation.embedded import embedded_image_set, held_out_motion_index
from mocap_hmr.evaluation.predict import load_image_model
from mocap_hmr.evaluation.run import mesh_truth, smpl_protocol
from mocap_hmr.studies.rerender import StoredScenes, render_scenes, stored_scenes
from mocap_hmr.studies.scores import paired_delta
from mocap_hmr.studies.tables import Column, find, write_table
from mocap_hmr.studies.variants import StudyContext, StudyOutput, evaluate_models, starting_model
from mocap_hmr.training.mocap_spin import FINAL_MODEL
from mocap_hmr.vis.charts import bar_chart
from mocap_hmr.vis.figure import save_png
from mocap_hmr.vis.grids import appearance_rows
from renderers.appearance import suit_textures
from renderers.build import renderer_from_config
from renderers.plain import GreyBackgrounds, NoiseBackgrounds, SolidBackgrounds, grey_textures
from renderers.synthetic import SyntheticRenderer

NAME = "synthetic-gap"
STORED = "stored test set"
RENDER_VERSION = 2  # bump when a look changes: cached predictions are then recomputed
PREVIEW_SAMPLES = 8


def model_to_evaluate(study: StudyContext) -> tuple[Path, str]:
    """``study.weights``, else the run's MoCap-SPIN, else the starting model; and what it is."""
    if study.settings.weights:
        path = Path(study.settings.weights)
        if not path.is_file():
            raise MocapHMRError(f"study.weights={path}: no such file")
        return path, str(path)
    run = Path(study.cfg.out_dir) / FINAL_MODEL
    if run.is_file():
        return run, f"the run's MoCap-SPIN ({run})"
    return starting_model(study), "the starting model (no run in out_dir; study.weights picks another)"


def labels(cfg: DictConfig) -> tuple[dict[str, str], dict[str, str]]:
    """Table labels of the backgrounds and bodies, saying what they are in this configuration."""
    scenes = "photos (render.backgrounds)" if cfg.render.backgrounds else "rooms (procedural)"
    clothed = "textures (render.textures)" if cfg.render.textures else "clothed (training look)"
    return ({"black": "black", "grey": "grey walls (test look)", "noise": "pixel noise", "scenes": scenes},
            {"grey": "grey, untextured", "skin": "bare skin", "suit": "part-coloured suit (test look)",
             "clothed": clothed})


def appearance_renderer(study: StudyContext, index, background: str, body: str) -> SyntheticRenderer:
    """A renderer (no photometric augmentation) with the background and body look asked for."""
    cfg, device = study.cfg, study.device
    textures = (grey_textures(device=device) if body == "grey" else suit_textures(study.body, device=device)
                if body == "suit" else cfg.render.textures if body == "clothed" else None)
    backgrounds = {"black": SolidBackgrounds, "grey": GreyBackgrounds, "noise": NoiseBackgrounds}.get(
        background, cfg.render.backgrounds if background == "scenes" else None)
    return renderer_from_config(cfg.render, study.body, index, device, textures=textures, backgrounds=backgrounds,
                                augment=False, clothed=0.9 if body == "clothed" else 0.0)


def _render_all(renderer: SyntheticRenderer, scenes: StoredScenes, batch_size: int, seed: int,
                count: int | None = None):
    """Normalized images of the first ``count`` (default all) scenes, batch by batch, seeded."""
    generator = torch.Generator(device=scenes.pose.device).manual_seed(seed)
    n = len(scenes) if count is None else count
    for first in range(0, n, batch_size):
        pick = torch.arange(first, min(first + batch_size, n), device=scenes.pose.device)
        yield render_scenes(renderer, scenes, pick, generator).images.cpu()


def run(cfg: DictConfig, log=print) -> StudyOutput:
    st = cfg.study
    study = StudyContext.open(cfg, NAME, log)
    if study.real_data or cfg.eval.real:
        log(f"{NAME}: re-renders the embedded test set only; mocap_spin.real / eval.real are not used")
    weights, which = model_to_evaluate(study)
    method = Method("model", weights)
    test_set = f"embedded-{st.test_set}"
    stored = find(evaluate_models(study, [method], real=False), method.name, test_set)

    device = study.device
    data = embedded_image_set(study.body, test_set, cfg.render.image_size, n=cfg.eval.image_samples, device=device,
                              log=log)
    scenes = stored_scenes(data, cfg.render.image_size)
    truth = mesh_truth(study.body, data.pose.cpu(), data.betas.cpu())
    index = load_index(held_out_motion_index(log=log), device=device)
    protocol = smpl_protocol(cfg.eval.align)
    bs = cfg.eval.batch_size
    background_labels, body_labels = labels(cfg)
    seed = cfg.seed * 1000 + 7
    rows, cells, previews = [], {}, []
    for background in st.backgrounds:
        for body in st.bodies:
            renderer = appearance_renderer(study, index, background, body)
            description = {"background": background, "body": body, "seed": seed, "test_set": data.path.name,
                           "backgrounds": cfg.render.backgrounds, "textures": cfg.render.textures,
                           "version": RENDER_VERSION}
            result = evaluate_benchmark(
                f"gap-{background}-{body}", lambda r=renderer: _render_all(r, scenes, bs, seed), -(-len(scenes) // bs),
                truth, [method], lambda w: load_image_model(cfg.mocap_spin, w, device), study.body, protocol,
                study.folder / "predictions", description)[0]
            cells[background, body] = result
            rows.append({"background": background_labels[background], "body": body_labels[body],
                         **{m: result.metrics[m] for m in ("pa_mpjpe", "mpjpe", "mpvpe")},
                         "delta": "{:+.1f} ± {:.1f}".format(*paired_delta(result, stored))})
            previews.append((f"{background_labels[background]} / {body_labels[body]}",
                             next(_render_all(renderer, scenes, PREVIEW_SAMPLES, seed, PREVIEW_SAMPLES))))
    rows.append({"background": STORED, "body": "(as stored: grey walls, suit)",
                 **{m: stored.metrics[m] for m in ("pa_mpjpe", "mpjpe", "mpvpe")}})

    columns = [Column("background", "Background"), Column("body", "Body"),
               *(Column(m, f"{label} (mm)", lower_better=True)
                 for m, label in (("pa_mpjpe", "PA-MPJPE"), ("mpjpe", "MPJPE"), ("mpvpe", "MPVPE"))),
               Column("delta", f"PA-MPJPE vs {STORED} (mm, ± s.e.)")]
    notes = [f"model: {which}", f"the {len(scenes)} samples of the {test_set} test set, rendered again with the same "
             "pose, shape, camera and crop; light and texture drawn anew (one seed for every look)",
             "our background sampler's random backgrounds are its procedural rooms: pixel noise stands for "
             "'random' and the rooms (or photos) for 'scenes'"]
    files = write_table(study.folder, "Synthetic gap: appearance of the test renderings (Figure 9)", columns, rows,
                        notes, [stored, *cells.values()], extra={"model": str(weights)})
    series = {body_labels[b]: [cells[g, b].metrics["pa_mpjpe"] for g in st.backgrounds] for b in st.bodies}
    files["picture"] = save_png(bar_chart([background_labels[g] for g in st.backgrounds], series,
                                          "PA-MPJPE by background and body look", "PA-MPJPE (mm)",
                                          (STORED, stored.metrics["pa_mpjpe"])), study.folder / "synthetic_gap.png")
    files["preview"] = appearance_rows(study.folder / "appearances.png", previews)
    return StudyOutput(NAME, study.folder, files, _summary(cells, stored, which, background_labels, body_labels))


def _summary(cells, stored, which, background_labels, body_labels) -> str:
    parts = ", ".join(f"{background_labels[g]}/{body_labels[b].split(' (')[0]} {r.metrics['pa_mpjpe']:.1f}"
                      for (g, b), r in cells.items())
    pa = {k: r.metrics["pa_mpjpe"] for k, r in cells.items()}
    best, worst = min(pa, key=pa.get), max(pa, key=pa.get)
    return (f"{NAME} ({which}): PA-MPJPE (mm) {parts}; {STORED} {stored.metrics['pa_mpjpe']:.1f}. "
            f"Best look: {background_labels[best[0]]} / {body_labels[best[1]]}; worst: "
            f"{background_labels[worst[0]]} / {body_labels[worst[1]]} (+{pa[worst] - pa[best]:.1f}).")
