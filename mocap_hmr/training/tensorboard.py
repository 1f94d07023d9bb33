"""The run folder's ``tensorboard/`` events, written by ``torch.utils.tensorboard.SummaryWriter``.

The writer needs the ``tensorboard`` package, which is an optional extra (``pip install -e
".[tensorboard]"``, also part of ``dev``) rather than a requirement: it brings protobuf, grpcio
and a web server, and a run trains the same without them. So where it is not installed, a run
with ``tensorboard=true`` (the default) logs one line saying the event files are skipped and
how to get them, and trains on.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter


def open_event_writer(log_dir: Path, log: Callable[[str], None]) -> SummaryWriter | None:
    """A SummaryWriter on a new event file in ``log_dir``; None, said in one line of ``log``, where
    the tensorboard package is not installed."""
    if importlib.util.find_spec("tensorboard") is None:
        log(f"tensorboard=true, but the tensorboard package is not installed: no event files in {log_dir} "
            "(pip install tensorboard to get them, tensorboard=false to silence this line)")
        return None
    from torch.utils.tensorboard import SummaryWriter

    return SummaryWriter(str(log_dir))
