"""train.py under torchrun with one check that needs the processes' memory (tests/test_distributed.py):
``python -m torch.distributed.run --nproc_per_node=2 tests/ddp_probe.py PROBE key=value ...``.

same-models: after training, every rank holds rank 0's parameters, and the ranks rendered different batches.
nan-on-rank-1: rank 1's MoCap-SPIN loss becomes NaN at its second step (rank 0's stays finite).
"""

import importlib.util
import sys
from pathlib import Path

import torch
import torch.distributed as dist

from mocap_hmr.training import runner
from mocap_hmr.training.distributed import gather
from mocap_hmr.training.mocap_spin import MocapSpinTrainer


def same_models() -> None:
    loop = runner._loop

    def checked(cfg, tasks, *args) -> None:
        loop(cfg, tasks, *args)
        for task in tasks:
            params = gather({k: v.detach().cpu() for k, v in task.trainer.model.module.named_parameters()})
            assert all(torch.equal(params[0][k], p[k]) for p in params[1:] for k in p), f"{task.name} differs"
        images = gather(tasks[0].trainer.last_batch.images.cpu())
        assert not torch.equal(images[0], images[1]), "the ranks rendered the same batch"

    runner._loop = checked


def nan_on_rank_1() -> None:
    losses, calls = MocapSpinTrainer.losses, []

    def poisoned(self, batch):
        terms = losses(self, batch)
        calls.append(1)
        if len(calls) == 2 and dist.get_rank() == 1:
            terms["loss"] = terms["loss"] * float("nan")
        return terms

    MocapSpinTrainer.losses = poisoned


if __name__ == "__main__":
    {"same-models": same_models, "nan-on-rank-1": nan_on_rank_1}[sys.argv[1]]()
    spec = importlib.util.spec_from_file_location("train_script", Path(__file__).parents[1] / "train.py")
    train_script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train_script)
    sys.exit(train_script.main(sys.argv[2:]))
