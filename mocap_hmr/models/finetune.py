"""Which parameters of HMR train (the paper's Table 7).

Modes (``mocap_hmr.choices.TRAINABLE``): ``bn`` (batch-norm affine weights + running statistics; MoCap-SPIN's default),
``bn-stats`` (the running statistics alone, re-estimated on the training batches as AdaBN does:
no parameter trains; the baseline that tells the batch norms' learnt weights from their
statistics), ``bn+regressor``, ``regressor``, ``regressor+last-k`` (k = 1..4: the regressor and the last
k ResNet stages), ``all``, ``all-but-bn``. Frozen parameters get ``requires_grad=False``
(so no gradient and, with ``trainable_parameters``, no optimizer state). Batch-norm layers
whose affine weights are frozen also keep their running statistics (they run in eval mode
whenever the model is in train mode).
"""

from __future__ import annotations

import re

from torch import nn

from mocap_hmr.choices import TRAINABLE
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.models.hmr import HMR


class _FrozenStatisticsBN:
    """Keeps the batch-norm layers of ``frozen`` in eval mode when the model trains."""

    def __init__(self, frozen: list[nn.BatchNorm2d | nn.SyncBatchNorm]):
        self.frozen = frozen

    def __call__(self, model: nn.Module, _inputs) -> None:
        if model.training:
            for bn in self.frozen:
                bn.eval()


def _batch_norms(module: nn.Module) -> list[nn.BatchNorm2d | nn.SyncBatchNorm]:
    return [m for m in module.modules() if isinstance(m, nn.BatchNorm2d | nn.SyncBatchNorm)]


def select_trainable(model: HMR, mode: str = "bn") -> int:
    """Freeze all but ``mode``'s parameters of ``model``; returns the trainable count."""
    match = re.fullmatch(r"regressor\+last-(\d)", mode)
    if mode not in TRAINABLE:
        raise MocapHMRError(f"mocap_spin.trainable='{mode}' is not one of {', '.join(TRAINABLE)}")
    bn_params = {id(p) for bn in _batch_norms(model) for p in bn.parameters()}
    regressor = {id(p) for m in model.regressor_modules() for p in m.parameters()}
    last_stages = set()
    if match:
        k = int(match.group(1))
        if k > len(model.stages):
            raise MocapHMRError(f"mocap_spin.trainable='{mode}': the {model.backbone_name} backbone has "
                                f"{len(model.stages)} stages")
        for name in model.stages[-k:]:
            last_stages |= {id(p) for p in getattr(model, name).parameters()}
    chosen = {
        "bn": bn_params,
        "bn-stats": set(),
        "bn+regressor": bn_params | regressor,
        "regressor": regressor,
        "all": {id(p) for p in model.parameters()},
        "all-but-bn": {id(p) for p in model.parameters()} - bn_params,
    }.get(mode, regressor | last_stages)
    for p in model.parameters():
        p.requires_grad_(id(p) in chosen)
    frozen_bns = [bn for bn in _batch_norms(model)
                  if mode != "bn-stats" and not any(p.requires_grad for p in bn.parameters())]
    if getattr(model, "_frozen_bn_hook", None) is not None:
        model._frozen_bn_hook.remove()
    model._frozen_bn_hook = model.register_forward_pre_hook(_FrozenStatisticsBN(frozen_bns))
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def trainable_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The parameters to give the optimizer (frozen ones get no state)."""
    return [p for p in model.parameters() if p.requires_grad]
