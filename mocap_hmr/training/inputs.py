"""The files a training configuration names, checked all at once before a run starts, so
that a missing one is reported with every other missing one instead of hours later.

Unset keys are not checked: they select the free defaults (stand-in body, procedural
motion, procedural appearance, the model's own initialisation).
"""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig

from mocap_hmr.body.body_model import EXTRA_REGRESSOR_FILE, H36M_REGRESSOR_FILE
from mocap_hmr.body.model_files import find_model_file
from mocap_hmr.errors import MocapHMRError, ModelNotFoundError
from mocap_hmr.paths import SMPL_DIR_ENV


def _body_files(cfg: DictConfig) -> list[tuple[str, Path, str, bool]]:
    """(key, path, what, is_folder) for the SMPL model and SPIN's regressors beside it."""
    chosen = cfg.body.model_path or os.environ.get(SMPL_DIR_ENV)
    if not chosen:
        return []
    key = "body.model_path" if cfg.body.model_path else f"${SMPL_DIR_ENV}"
    try:
        folder = find_model_file(chosen).parent
    except ModelNotFoundError:
        return [(key, Path(chosen), "the folder of SMPL_NEUTRAL.pkl, with SPIN's J_regressor_extra.npy and "
                 "J_regressor_h36m.npy beside it", False)]
    needed = []
    if cfg.mocap_spin.enabled:
        needed.append((EXTRA_REGRESSOR_FILE, "SPIN's regressor of its 49 joints"))
    if (cfg.mocap_spin.enabled and cfg.mocap_spin.real) or cfg.posebert.input == "h36m":
        needed.append((H36M_REGRESSOR_FILE, "SPIN's regressor of the 17 H36M joints"))
    return [(key, folder / name, what, False) for name, what in needed]


def required_inputs(cfg: DictConfig) -> list[tuple[str, Path, str, bool]]:
    """Every file or folder the configuration names: (key, path, what it is, is_folder)."""
    spin = cfg.mocap_spin
    items = _body_files(cfg)
    if cfg.motion.index:
        items.append(("motion.index", Path(cfg.motion.index), "the AMASS motion index (mocap-hmr index-amass)", False))
    for key in ("textures", "backgrounds"):
        if cfg.render[key]:
            items.append((f"render.{key}", Path(cfg.render[key]), f"the folder of {key}", True))
    if spin.enabled:
        if spin.checkpoint:
            items.append(("mocap_spin.checkpoint", Path(spin.checkpoint), "SPIN's model_checkpoint.pt", False))
        if spin.mean_params:
            items.append(("mocap_spin.mean_params", Path(spin.mean_params), "SPIN's smpl_mean_params.npz", False))
        for i, d in enumerate(spin.real):
            items.append((f"mocap_spin.real[{i}].npz", Path(d.npz), "SPIN's dataset file", False))
            items.append((f"mocap_spin.real[{i}].images", Path(d.images), "the dataset's image folder", True))
            if d.fits:
                items.append((f"mocap_spin.real[{i}].fits", Path(d.fits), "SPIN's fits of the dataset", False))
    return items


def check_inputs(cfg: DictConfig) -> None:
    """Stop, naming every missing file or folder the configuration needs, in one message."""
    missing = [f"  {key}: {path} ({what})" for key, path, what, folder in required_inputs(cfg)
               if not (path.is_dir() if folder else path.is_file())]
    if missing:
        raise MocapHMRError(f"{len(missing)} input(s) the configuration names are missing (docs/datasets.md says "
                            "where each comes from):\n" + "\n".join(missing))
