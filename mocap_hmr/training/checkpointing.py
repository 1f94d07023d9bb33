"""Training checkpoints: written to a temporary file and renamed (a crash never leaves a
half-written one), read back with a clear error when cut short."""

from __future__ import annotations

from pathlib import Path

import torch

from mocap_hmr.atomic import atomic_write
from mocap_hmr.errors import MocapHMRError


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Atomically ``torch.save`` a dict of tensors, numbers, strings and state dicts, on the
    disk before it replaces the previous one (a full disk raises ``atomic.WriteError``)."""
    atomic_write(Path(path), lambda fh: torch.save(state, fh), sync=True)


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> dict:
    """A checkpoint written by ``save_checkpoint``; unreadable files raise naming the file."""
    path = Path(path)
    if not path.is_file():
        raise MocapHMRError(f"resume=true but there is nothing to resume from: {path} does not exist "
                            "(start without resume, or point out_dir at the run to continue)")
    try:
        return torch.load(path, map_location=device, weights_only=False)
    except Exception as exc:  # truncated zip, unpickling errors ...
        raise MocapHMRError(f"{path}: cannot resume from this checkpoint, it is cut short or corrupt "
                            f"({type(exc).__name__}: {exc})") from exc
