"""Helpers shared by the benchmarks: median wall time of a callable on a device, per-phase
timers, peak memory, Markdown tables."""

from __future__ import annotations

import functools
import resource
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

CLEAR_REFS = Path("/proc/self/clear_refs")  # Linux: writing 5 resets the process's peak RSS


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (CUDA), so that the clock reads finished work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_ms(fn: Callable[[], object], device: torch.device, repeats: int = 50, warmup: int = 5) -> float:
    """Median milliseconds per call of ``fn`` (CUDA work is synchronised before reading the clock)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        fn()
        sync(device)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


class PhaseTimer:
    """``timer(name)`` is a context manager adding the wall time of its block (device work
    synchronised) to ``name``'s list; ``medians()`` gives the median milliseconds per name."""

    def __init__(self, device: torch.device):
        self.device, self.times = device, defaultdict(list)

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        sync(self.device)
        start = time.perf_counter()
        yield
        sync(self.device)
        self.times[name].append((time.perf_counter() - start) * 1000)

    def medians(self) -> dict[str, float]:
        return {name: statistics.median(times) for name, times in self.times.items()}

    def clear(self) -> None:
        self.times.clear()


@functools.cache
def rss_peak_resets() -> bool:
    """Whether this process can reset its peak RSS (Linux's clear_refs; it does so now)."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def reset_peak_memory(device: torch.device) -> None:
    """Start a new peak: CUDA's allocator statistics, or the process's peak RSS where it can."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    elif rss_peak_resets():
        CLEAR_REFS.write_text("5")


def peak_memory_mb(device: torch.device) -> float:
    """CUDA: ``torch.cuda.max_memory_allocated`` (tensors only); CPU: the process's peak
    resident set (``resource.getrusage``: tensors, libraries, the corpora; Linux's kilobytes)."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_kind(device: torch.device) -> str:
    if device.type == "cuda":
        return "torch.cuda.max_memory_allocated"
    reset = "reset per row through /proc/self/clear_refs" if rss_peak_resets() else "the whole run so far"
    return f"peak RSS of the process (resource.getrusage ru_maxrss, {reset})"


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
