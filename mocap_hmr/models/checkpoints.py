"""Loading model weights from the checkpoint layouts users have, with errors that show what
differs: ``{'model': sd}`` (SPIN), ``{'model_state_dict': sd}`` (PoseBERT's release),
``{'state_dict': sd}``, or a bare state dict; and writing SPIN's layout."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from mocap_hmr.atomic import atomic_write
from mocap_hmr.errors import MocapHMRError

STATE_DICT_KEYS = ("model", "model_state_dict", "state_dict")


class CheckpointError(MocapHMRError, ValueError):
    """A checkpoint is unreadable or does not fit the model."""


def read_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> dict:
    """The object saved at ``path`` (weights only, no code runs)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except Exception as exc:  # torch raises many kinds for truncated or foreign files
        raise CheckpointError(f"{path}: cannot be read as a PyTorch checkpoint ({type(exc).__name__}: {exc})") from exc


def save_spin_checkpoint(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write ``{'model': state_dict}`` (SPIN's layout, CPU tensors) atomically; SPIN's code,
    ``mocap_spin.checkpoint`` and ``eval.py`` all read it."""
    state = {"model": {k: v.detach().cpu() for k, v in model.state_dict().items()}}
    atomic_write(Path(path), lambda fh: torch.save(state, fh))
    return Path(path)


def state_dict_of(obj: Mapping, source: str) -> Mapping[str, torch.Tensor]:
    """The state dict inside a checkpoint object, whichever layout it has."""
    for key in STATE_DICT_KEYS:
        if key in obj and isinstance(obj[key], Mapping):
            return obj[key]
    if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj
    raise CheckpointError(
        f"{source}: no weights found; expected a state dict or a dict with one under "
        f"{', '.join(repr(k) for k in STATE_DICT_KEYS)} (keys present: {', '.join(list(obj)[:8])})"
    )


def load_weights(model: nn.Module, state_dict: Mapping[str, torch.Tensor], source: str, show: int = 5) -> None:
    """``load_state_dict(strict=True)``, but a mismatch names the first missing and
    unexpected keys and the shape mismatches, and how many there are."""
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
              for k in own if k in state_dict and tuple(state_dict[k].shape) != tuple(own[k].shape)]
    if missing or unexpected or shapes:
        parts = []
        for label, items in (("missing", missing), ("unexpected", unexpected), ("shape mismatches", shapes)):
            if items:
                parts.append(f"{len(items)} {label}: {', '.join(items[:show])}" + (" ..." if len(items) > show else ""))
        raise CheckpointError(f"{source} does not fit {type(model).__name__}: " + "; ".join(parts))
    model.load_state_dict(state_dict, strict=True)
