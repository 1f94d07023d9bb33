"""The paper's studies, one command each: ``mocap-hmr study NAME [--config FILE] [key=value ...]``.

Each study fine-tunes variants of one starting model (``variants``), scores them on the
embedded world's three image sets (and ``eval.real``) and leaves ``table.md``, ``table.json`` and a
picture in ``<out_dir>/studies/<name>/`` (docs/studies.md). Modules are imported when a study
runs, so listing them costs nothing.
"""

from __future__ import annotations

import importlib

# name -> (module, what it measures)
STUDIES = {
    "trainable-subsets": ("trainable_subsets", "Table 7: which parameters to fine-tune (BN only vs all ...)"),
    "synthetic-fraction": ("synthetic_fraction", "Figure 6: error against the rendered fraction of each batch"),
    "synthetic-gap": ("synthetic_gap", "Figure 9: one model on the test set re-rendered with other looks"),
    "oracle": ("oracle", "Table 2: rendered halves taken from the test set's ground truth (an oracle)"),
    "rendered-poses": ("rendered_poses", "Table 1: rendering MoCap poses or the real domain's own poses"),
}


def run_study(name: str, cfg, log=print):
    """Run study ``name`` with the configuration ``cfg`` (``settings.load_study_config``);
    returns its ``variants.StudyOutput``."""
    if name not in STUDIES:
        raise KeyError(f"unknown study '{name}'; the studies are {', '.join(STUDIES)}")
    return importlib.import_module(f"mocap_hmr.studies.{STUDIES[name][0]}").run(cfg, log=log)
