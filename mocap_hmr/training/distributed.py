"""Several training processes, one per GPU (``torchrun --nproc_per_node=N train.py``): the
process group from torchrun's environment, DDP wrapping and the few collectives the runner needs.

Without torchrun's variables (a plain ``python train.py``), or with one process, there is no
process group: ``init_distributed`` gives rank 0 of 1 on ``cfg.device`` and every helper here
does nothing, so the run is the single-process one. With several (README, "Several GPUs"):
batch sizes are per process; each process draws its batches from its own generator
(``rank_seed``); DDP averages the gradients, so the models stay identical; rank 0 alone writes.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
import torch.distributed as dist
from omegaconf import DictConfig
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from mocap_hmr.errors import MocapHMRError

SEED_STRIDE = 0x9E3779B97F4A7C15  # 2^64 / golden ratio: rank r of seed s never reuses another (s, r)'s seed


@dataclass(frozen=True)
class DistContext:
    """This process's place: ``rank`` of ``world_size``, ``local_rank`` on its machine, ``device``."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def resolve_device(name: str) -> torch.device:
    """``cfg.device`` of a single process: auto (cuda when available), cpu, cuda, cuda:N."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise MocapHMRError(f"device={name}: CUDA is not available here (use device=cpu or device=auto)")
    return device


def _process_device(name: str, local_rank: int, local_world_size: int) -> torch.device:
    """cuda:LOCAL_RANK for device=auto|cuda where CUDA is available, else cpu."""
    if name == "cpu" or (name == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if name not in ("auto", "cuda"):
        raise MocapHMRError(f"device={name}: with several processes each one takes cuda:LOCAL_RANK; "
                            "use device=cuda, auto or cpu")
    resolve_device(name)  # CUDA must be there
    if local_world_size > torch.cuda.device_count():
        raise MocapHMRError(f"torchrun started {local_world_size} processes on this machine but only "
                            f"{torch.cuda.device_count()} CUDA device(s) are visible: use --nproc_per_node="
                            f"{torch.cuda.device_count()} or fewer (or device=cpu)")
    return torch.device("cuda", local_rank)


def init_distributed(cfg: DictConfig) -> DistContext:
    """The process's rank and device from torchrun's RANK, WORLD_SIZE, LOCAL_RANK and
    LOCAL_WORLD_SIZE; with several processes, joins the process group (nccl on CUDA, gloo on CPU)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return DistContext(device=resolve_device(cfg.device))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ["LOCAL_RANK"])
    device = _process_device(cfg.device, local_rank, int(os.environ.get("LOCAL_WORLD_SIZE", world_size)))
    if cfg.distributed.sync_batchnorm and device.type != "cuda":
        raise MocapHMRError("distributed.sync_batchnorm=true needs CUDA devices (torch's SyncBatchNorm does not "
                            "run on CPU): leave it false with device=cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device)
    else:
        dist.init_process_group("gloo")
    return DistContext(rank, world_size, local_rank, device)


def rank_seed(seed: int, rank: int) -> int:
    """The seed of rank ``rank``'s generators: ``seed`` itself for rank 0 (one process is the
    single-process run), a different 64-bit value for every other rank."""
    return (seed + rank * SEED_STRIDE) % 2**64


class _DDP(DistributedDataParallel):
    """DDP that reads like the model it wraps: attributes and state dicts are the module's (no
    ``module.`` prefix), so trainers keep using ``self.model`` and checkpoints stay single-process ones."""

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            if name == "module":
                raise
            return getattr(self.module, name)

    def state_dict(self, *args, **kwargs) -> dict:
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        return self.module.load_state_dict(state_dict, strict, assign)


def wrap(model: nn.Module, ctx: DistContext) -> nn.Module:
    """``model`` in DDP with several processes (rank 0's parameters and buffers broadcast now,
    its buffers -- BN running statistics -- before each forward; gradients averaged in backward),
    else ``model`` itself. ``find_unused_parameters`` stays off: in every HMR trainable mode and
    PoseBERT variant each parameter that trains gets a gradient every step (checked in
    tests/test_distributed.py), and frozen ones (``requires_grad=False``) are not DDP's concern.
    A model with nothing to train (``mocap_spin.trainable=bn-stats``) stays unwrapped: there is no
    gradient to average, and each process's batch norms follow its own batches (rank 0's are
    written; ``distributed.sync_batchnorm`` pools them over the processes on CUDA)."""
    if ctx.world_size == 1 or not any(p.requires_grad for p in model.parameters()):
        return model
    return _DDP(model, device_ids=[ctx.device] if ctx.device.type == "cuda" else None)


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DDP wrapper (or ``model``)."""
    return model.module if isinstance(model, DistributedDataParallel) else model


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def cleanup(wait_for_peers: bool = True) -> None:
    """Ends the process group. DDP models left in reference cycles are collected first: one
    destroyed after its process group made gloo abort the process at exit (SIGABRT, "terminate
    called without an active exception") in about one two-process run in five. Then, with
    ``wait_for_peers`` (a process that finished its work), every process waits for the others,
    so that none tears the group down while a peer's gloo threads still talk to it (the rarer
    abort left after the collection, under load). A process leaving on an error does not wait:
    its peers may be inside a collective it will never join."""
    if dist.is_initialized():
        gc.collect()
        if wait_for_peers:
            dist.barrier()
        dist.destroy_process_group()


@contextmanager
def main_first(ctx: DistContext) -> Iterator[None]:
    """Rank 0 runs the block first (building what is not cached yet), then the others at once."""
    if not ctx.is_main:
        barrier()
    yield
    if ctx.is_main:
        barrier()


def all_finite(value: torch.Tensor) -> bool:
    """Whether ``value`` is finite on every process. One all-reduce with several, so they all
    take the same branch: a process skipping the backward that the others run would leave them
    waiting in DDP's gradient all-reduce."""
    finite = torch.isfinite(value).all().to(torch.int32)
    if dist.is_initialized():
        dist.all_reduce(finite, op=dist.ReduceOp.MIN)
    return bool(finite)


def mean_over_processes(terms: dict[str, float], device: torch.device) -> dict[str, float]:
    """Each term averaged over the processes (the same keys on each; NaN anywhere gives NaN)."""
    if not dist.is_initialized():
        return terms
    values = torch.tensor(list(terms.values()), dtype=torch.float64, device=device)
    dist.all_reduce(values)
    return dict(zip(terms, (values / dist.get_world_size()).tolist(), strict=True))


def gather(obj: object) -> list:
    """``obj`` of every process, indexed by rank (``[obj]`` in a single process)."""
    if not dist.is_initialized():
        return [obj]
    out = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out
