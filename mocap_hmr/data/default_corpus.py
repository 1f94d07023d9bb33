"""The embedded default motion corpus: procedural motion (see ``procedural.py``), written
once into the cache and indexed, for runs that have no AMASS configured."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from mocap_hmr.data.motion_index import IndexFileError, build_index, load_index
from mocap_hmr.data.procedural import synthesize_motion
from mocap_hmr.paths import cache_dir

DEFAULT_MINUTES = 30.0
DEFAULT_SEED = 0
CORPUS_INFO = "corpus.json"


def default_motion_index(fps: float = 30.0, minutes: float = DEFAULT_MINUTES, seed: int = DEFAULT_SEED,
                         root: Path | None = None, log: Callable[[str], None] = print) -> Path:
    """Index file of the procedural corpus at ``fps``; synthesizes and indexes it on first use.

    The corpus lives in ``root`` (default ``$MOCAP_HMR_CACHE/procedural_motion``); a folder
    without its ``corpus.json`` (an interrupted run) or made with other settings is rebuilt."""
    root = Path(root) if root else cache_dir() / "procedural_motion"
    settings = {"minutes": minutes, "seed": seed}
    info = root / CORPUS_INFO
    if not (info.is_file() and json.loads(info.read_text()) == settings):
        log(f"synthesizing a procedural motion corpus ({minutes:g} min, seed {seed}) into {root}")
        shutil.rmtree(root, ignore_errors=True)
        synthesize_motion(root, minutes=minutes, seed=seed, log=log)
        info.write_text(json.dumps(settings) + "\n")
    index = root.with_name(f"{root.name}_{fps:g}fps.npz")
    try:
        load_index(index)
        if index.stat().st_mtime_ns >= info.stat().st_mtime_ns:
            return index
    except IndexFileError:
        pass
    report = build_index(root, index, fps=fps, log=log)
    log(f"default motion index: {report.sequences} sequences, {report.frames} frames at {fps:g} fps in {index}")
    return index
