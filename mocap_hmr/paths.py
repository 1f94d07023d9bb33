"""Where the project looks for things (the cache folder, the licensed SMPL files) and the
file and folder names it makes from labels (``slug``)."""

from __future__ import annotations

import os
import re
from pathlib import Path

CACHE_ENV = "MOCAP_HMR_CACHE"
SMPL_DIR_ENV = "SMPL_DIR"

SMPL_LICENSE_HINT = (
    "SMPL is licensed and never shipped with this project: register and download "
    "'SMPL for Python' from https://smpl.is.tue.mpg.de (the neutral model comes with SMPLify, "
    "https://smplify.is.tue.mpg.de), then point the config key body.model_path or the "
    f"environment variable ${SMPL_DIR_ENV} at the folder. Without it, build the free stand-in "
    "body: mocap-hmr build-body"
)


def cache_dir() -> Path:
    """The project's cache folder: $MOCAP_HMR_CACHE, else ~/.cache/mocap_hmr."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "mocap_hmr")


def standin_body_dir() -> Path:
    """Where `mocap-hmr build-body` writes the stand-in body by default."""
    return cache_dir() / "standin_body"


def slug(text: str) -> str:
    """A file or folder name for a label: 'oracle: + camera' -> 'oracle_+_camera',
    'starting model' -> 'starting_model'."""
    return re.sub(r"[^a-z0-9+.-]+", "_", text.lower()).strip("_")
