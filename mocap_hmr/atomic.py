"""Atomic file writes: write beside the target, then rename, so a crash or a full disk never
leaves a half-written file where a complete one is expected."""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from mocap_hmr.errors import MocapHMRError


class WriteError(MocapHMRError, OSError):
    """A file could not be written (no space, no permission ...); the previous one, if any, is intact."""

    def __init__(self, path: Path, exc: OSError):
        self.path, self.reason = path, exc.strerror or str(exc)
        kept = "the previous file is left as it was" if path.is_file() else "nothing was written"
        super().__init__(f"{path}: cannot be written ({self.reason}); {kept}")

    def __str__(self) -> str:
        return self.args[0]


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path`` (same suffix); on success it replaces ``path``
    with the usual permissions of a new file, on error it is removed. A failure of the file
    system raises ``WriteError`` naming ``path``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{path.suffix}")
    except OSError as exc:
        raise WriteError(path, exc) from exc
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, MocapHMRError):
            raise WriteError(path, exc) from exc
        raise


def atomic_write(path: str | os.PathLike, write: Callable, sync: bool = False) -> None:
    """Call ``write(binary_file_object)`` into memory, then put the bytes in a temporary file
    renamed to ``path`` (so only plain file writes meet the disk, and a full disk raises
    ``WriteError``). ``sync``: flush the bytes to the disk before the rename."""
    buffer = io.BytesIO()
    write(buffer)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(buffer.getbuffer())
        if sync:
            fh.flush()
            os.fsync(fh.fileno())
