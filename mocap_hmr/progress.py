"""Progress bars for long loops: tqdm with the project's one default, a log-friendly pace."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")

TTY_INTERVAL_S, LOG_INTERVAL_S = 0.1, 5.0


def progress(items: Iterable[T], total: int, desc: str, unit: str = "it") -> tqdm[T]:
    """``items`` behind a tqdm bar on stderr: redrawn in place on a terminal, and at most every
    ``LOG_INTERVAL_S`` seconds otherwise, so the log of a redirected run (nohup, CI) is not flooded."""
    return tqdm(items, total=total, desc=desc, unit=unit,
                mininterval=TTY_INTERVAL_S if sys.stderr.isatty() else LOG_INTERVAL_S)
