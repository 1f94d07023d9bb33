"""Per-frame predictions of an image model, cached on disk so that evaluating PoseBERT on top
(or re-running a report) reuses them instead of running the image model again.

A cached file is keyed by the weights file (path, size, modification time) and by the
benchmark's description; a key that differs means the file is recomputed, never reused.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from mocap_hmr.atomic import atomic_write
from mocap_hmr.models.checkpoints import load_weights, read_checkpoint, state_dict_of
from mocap_hmr.models.hmr import HMR, build_hmr
from mocap_hmr.progress import progress

PREDICTION_FIELDS = ("rotmat", "betas", "camera")


def load_image_model(spin_cfg: DictConfig, weights: str | Path, device: torch.device) -> HMR:
    """HMR with the run's backbone and mean parameters and the weights of ``weights`` (any
    layout ``load_weights`` reads: SPIN's, ours), in eval mode on ``device``."""
    model = build_hmr(OmegaConf.merge(spin_cfg, {"checkpoint": None}), device)
    load_weights(model, state_dict_of(read_checkpoint(weights, device), str(weights)), str(weights))
    return model.eval()


def predict(model: HMR, batches: Iterable[torch.Tensor], total: int, label: str) -> dict[str, np.ndarray]:
    """Run ``model`` over image batches (b, 3, S, S) -> rotmat (N, 24, 3, 3), betas (N, 10), camera (N, 3)."""
    device = next(model.parameters()).device
    out = {k: [] for k in PREDICTION_FIELDS}
    with torch.no_grad():
        for images in progress(batches, total, label, unit="batches"):
            pred = model(images.to(device))
            for key in PREDICTION_FIELDS:
                out[key].append(getattr(pred, key).float().cpu().numpy())
    return {k: np.concatenate(v) for k, v in out.items()}


def cache_key(weights: str | Path, benchmark: dict) -> str:
    """A digest of the weights file's identity and the benchmark's description."""
    stat = Path(weights).stat()
    ident = {"weights": str(Path(weights).resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
             "benchmark": benchmark}
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:16]


def cached_predictions(cache_dir: Path, name: str, key: str, compute) -> tuple[dict[str, np.ndarray], bool]:
    """The predictions stored as ``cache_dir/<name>.npz`` when their key is ``key``, else
    ``compute()``'s, stored; returns them and whether they came from the cache."""
    path = cache_dir / f"{name}.npz"
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as npz:
                if str(npz["key"]) == key and all(k in npz.files for k in PREDICTION_FIELDS):
                    return {k: npz[k] for k in PREDICTION_FIELDS}, True
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):  # cut short or foreign: recompute
            pass
    predictions = compute()
    buffer = io.BytesIO()
    np.savez(buffer, key=np.array(key), **predictions)
    atomic_write(path, lambda fh: fh.write(buffer.getvalue()))
    return predictions, False
