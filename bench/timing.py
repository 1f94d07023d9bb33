"""Timing helpers shared by the benchmarks: median wall time of a callable on a device."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch


def measure_ms(fn: Callable[[], object], device: torch.device, repeats: int = 50, warmup: int = 5) -> float:
    """Median milliseconds per call of ``fn`` (CUDA work is synchronised before reading the clock)."""
    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({torch.get_num_threads()} threads)"


def print_table(rows: list[dict]) -> None:
    """Rows of equal keys as a Markdown table."""
    keys = list(rows[0])
    print("| " + " | ".join(keys) + " |")
    print("|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")
