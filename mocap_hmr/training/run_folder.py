"""A run folder (``out_dir``) belongs to one run.

``check_run_folder`` (before anything loads, writes nothing): a folder holding a started or
finished run is refused unless ``resume=true`` (continue it) or ``overwrite=true`` (clear it
first); a folder another process trains into is refused, naming that process; an ``out_dir``
that cannot be a folder (under a file, on a read-only place) is refused.

``claim_run_folder`` (once the configuration is valid and the inputs have loaded): takes the
folder's lock, an ``flock`` on ``out_dir/.lock`` holding the owner's process id. The system
releases it when its process ends, however it ends, so the lock of a process that is gone is
taken over, never waited for. Under the lock the folder is checked again and, with
``overwrite=true``, the earlier run's files are removed (only those: anything else in the
folder stays).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from omegaconf import DictConfig

from mocap_hmr.atomic import WriteError
from mocap_hmr.errors import MocapHMRError

LOCK_FILE = ".lock"
# What a run writes into its folder (training.runner; eval.py adds eval/ about its weights).
RUN_ENTRIES = ("config.yaml", "checkpoints", "pictures", "tensorboard", "mocap_spin_start.pt", "mocap_spin.pt",
               "posebert.pt", "eval")
RUN_PATTERNS = ("metrics_*.csv",)
FINAL_ENTRIES = ("mocap_spin.pt", "posebert.pt")
CHECKPOINT = Path("checkpoints") / "last.pt"


class RunFolderError(MocapHMRError):
    """The run folder is taken by another run or process, or cannot be written."""


def run_contents(out: Path) -> list[Path]:
    """The files and folders of a run in ``out`` (sorted; empty when there is none)."""
    if not out.is_dir():
        return []
    found = [out / name for name in RUN_ENTRIES if (out / name).exists()]
    found += [p for pattern in RUN_PATTERNS for p in out.glob(pattern)]
    return sorted(found)


def _describe(out: Path, contents: list[Path]) -> str:
    state = "finished" if any((out / name).exists() for name in FINAL_ENTRIES) else "started"
    names = [p.name + ("/" if p.is_dir() else "") for p in contents]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return f"out_dir={out} holds a {state} run ({shown})"


def _check_place(out: Path) -> None:
    """Refuse an ``out_dir`` that is a file, lies under a file, or cannot be created or written."""
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "is a file" if existing == out else f"lies under {existing}, a file"
        raise RunFolderError(f"out_dir={out} {where}, not a folder: choose another out_dir")
    if not os.access(existing, os.W_OK | os.X_OK):
        what = "is not writable" if existing == out else f"cannot be created: {existing} is not writable"
        raise RunFolderError(f"out_dir={out} {what}: choose another out_dir")


def lock_holder(out: Path) -> int | None:
    """The process id holding ``out``'s lock, or None when it is free (0: held, id unknown)."""
    path = out / LOCK_FILE
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return _recorded_pid(path) or 0
    finally:
        os.close(fd)
    return None


def _recorded_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _in_use(out: Path, pid: int) -> RunFolderError:
    who = f"process {pid}" if pid else "another process"
    return RunFolderError(f"out_dir={out} is in use by {who} (its lock: {out / LOCK_FILE}); wait for it to end, "
                          "or choose another out_dir")


def check_run_folder(cfg: DictConfig) -> None:
    """Refuse, before anything is loaded or written, an ``out_dir`` this run may not use."""
    out = Path(cfg.out_dir)
    if cfg.resume and cfg.overwrite:
        raise RunFolderError("resume=true continues the run in out_dir, overwrite=true clears it: set one of them")
    _check_place(out)
    holder = lock_holder(out)
    if holder is not None:
        raise _in_use(out, holder)
    _check_contents(cfg, out)


def _check_contents(cfg: DictConfig, out: Path) -> None:
    contents = run_contents(out)
    if contents and not (cfg.resume or cfg.overwrite):
        raise RunFolderError(f"{_describe(out, contents)}: resume=true continues it, overwrite=true clears it "
                             "first, or choose another out_dir")


class RunLock:
    """The ``flock`` on ``out/.lock`` with this process's id in it."""

    def __init__(self, out: Path):
        self.out, self.path, self.fd = out, out / LOCK_FILE, None

    def acquire(self) -> int | None:
        """Take the lock; returns the id a process that is gone left in it (None if none).
        Raises ``RunFolderError`` naming the process that holds it."""
        while True:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise _in_use(self.out, _recorded_pid(self.path) or 0) from None
            if os.fstat(fd).st_ino == _inode(self.path):
                break
            os.close(fd)  # its owner removed that file as we locked it: lock the one there now
        previous = _recorded_pid(self.path)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return previous

    def release(self) -> None:
        if self.fd is not None:
            self.path.unlink(missing_ok=True)
            os.close(self.fd)
            self.fd = None


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


def _clear(out: Path) -> None:
    for path in run_contents(out):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


@contextlib.contextmanager
def claim_run_folder(cfg: DictConfig, log: Callable[[str], None] = print) -> Iterator[Path]:
    """Create ``out_dir``, hold its lock while the run writes into it, check it again under
    the lock and, with ``overwrite=true``, remove the earlier run's files. Yields the folder."""
    out = Path(cfg.out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunFolderError(f"out_dir={out} cannot be created ({exc.strerror or exc}): choose another "
                             "out_dir") from exc
    lock = RunLock(out)
    previous = lock.acquire()
    try:
        if previous is not None and previous != os.getpid():
            log(f"{out}: took over the lock of process {previous}, which is gone")
        _check_contents(cfg, out)
        if cfg.overwrite and run_contents(out):
            log(f"overwrite=true: {_describe(out, run_contents(out))}; removing it")
            _clear(out)
        yield out
    finally:
        lock.release()


def io_failure(exc: OSError, out: Path) -> RunFolderError:
    """One line for a failed write in run folder ``out``: the file, why, and the checkpoint
    the run can resume from."""
    path, reason = (exc.path, exc.reason) if isinstance(exc, WriteError) else (exc.filename, exc.strerror or exc)
    checkpoint = out / CHECKPOINT
    intact = (f"the last checkpoint, {checkpoint}, is intact: resume=true continues from it" if checkpoint.is_file()
              else "no checkpoint had been written yet")
    return RunFolderError(f"{path or out}: cannot be written ({reason}); run folder {out}; {intact}")
