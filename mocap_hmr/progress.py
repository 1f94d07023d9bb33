"""A small progress bar for long loops (no dependency): redrawn in place on a terminal,
a line every few seconds otherwise (logs, CI)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def progress(items: Iterable[T], total: int, desc: str, unit: str = "it", stream=None,
             log_every_s: float = 5.0) -> Iterator[T]:
    """Yield ``items`` while showing ``desc [#####.....] i/total [elapsed<eta, rate unit/s]``."""
    stream = stream or sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    start = last = time.perf_counter()
    done = 0

    def show(final: bool = False) -> None:
        elapsed = time.perf_counter() - start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else 0.0
        filled = int(20 * done / total) if total else 20
        line = (f"{desc} [{'#' * filled}{'.' * (20 - filled)}] {done}/{total} "
                f"[{_clock(elapsed)}<{_clock(eta)}, {rate:.1f} {unit}/s]")
        stream.write(("\r" + line + ("\n" if final else "")) if tty else line + "\n")
        stream.flush()

    for item in items:
        yield item
        done += 1
        now = time.perf_counter()
        if now - last >= (0.2 if tty else log_every_s):
            show()
            last = now
    show(final=True)
