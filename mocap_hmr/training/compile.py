"""What the trainers do every step beyond their maths: ``torch.compile`` of the model
(``mocap_spin.compile``, ``posebert.compile``) and the loss terms brought to the host.

Compiling. The trainers compile their model in place (``nn.Module.compile``), so its
``state_dict`` keys stay those of the plain module (no ``_orig_mod.`` prefix): checkpoints,
``mocap_spin.pt`` and ``posebert.pt`` are the same files with or without it. The trainers
compile at their first step, after the runner's DDP wrap, so that with several processes
the compiled graph is DDP's (torch's DDPOptimizer) rather than a module hidden inside DDP.
The first step is slow (compilation); where torch.compile cannot run (no C++ compiler for
the CPU backend, no triton for CUDA, an unsupported operation), ``compile_errors`` stops
with an error naming the configuration key rather than falling back silently.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn

from mocap_hmr.errors import MocapHMRError


def compile_once(model: nn.Module, pending: bool) -> bool:
    """Compiles ``model`` in place (its state dict keeps its keys) when ``pending``; returns
    False: nothing is pending any more."""
    if pending:
        model.compile()
    return False


@contextmanager
def compile_errors(key: str) -> Iterator[None]:
    """Turns torch.compile's failures (raised at the first forward or backward pass) into an
    error that names ``key``; works as a decorator too."""
    try:
        yield
    except RuntimeError as exc:
        from torch._dynamo.exc import TorchDynamoException  # imported here: importing it takes a second

        if not isinstance(exc, TorchDynamoException):
            raise
        reason = " ".join(str(exc).strip().split("\n\n")[0].split())  # the first paragraph, on one line
        raise MocapHMRError(f"{key}=true but torch.compile failed on this machine ({type(exc).__name__}: "
                            f"{reason}); set {key}=false to train without it") from exc


def host_floats(terms: dict[str, torch.Tensor]) -> dict[str, float]:
    """Scalar tensors as floats, in one device-to-host copy (not one per term)."""
    values = torch.stack([v.detach().float() for v in terms.values()]).tolist()
    return dict(zip(terms, values, strict=True))
