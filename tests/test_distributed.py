"""Several processes (torchrun, gloo on CPU): rank 0 alone writes one run folder, the ranks keep
the same models while drawing different batches, a NaN on one rank stops them all, runs resume
with fewer and with more processes, and DDP's step equals one process's step on the whole batch."""

import copy
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from test_training import HAS_TENSORBOARD
from torch import nn

from mocap_hmr.body import BodyModel
from mocap_hmr.config import DEFAULT_CONFIG, load_config
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.training.checkpointing import load_checkpoint
from mocap_hmr.training.distributed import (
    DistContext,
    all_finite,
    cleanup,
    gather,
    init_distributed,
    mean_over_processes,
    rank_seed,
    wrap,
)
from mocap_hmr.training.mocap_spin import MocapSpinTrainer
from mocap_hmr.training.posebert_step import PoseBertTrainer
from mocap_hmr.training.runner import build_streams, load_motion, train

ROOT = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")


def quiet(message: str) -> None:
    pass


def overrides(tiny_corpus, out_dir, **extra) -> list[str]:
    body_dir, index = tiny_corpus
    items = {"out_dir": out_dir, "device": "cpu", "body.model_path": body_dir, "motion.index": index,
             "render.image_size": 32, "render.backend": "torch", "mocap_spin.backbone": "tiny",
             "stand_in_spin.enabled": False, "stand_in_spin.images": 16,
             "mocap_spin.trainable": "bn", "mocap_spin.batch_size": 4, "mocap_spin.iterations": 2,
             "mocap_spin.log_every": 1,
             "posebert.dim": 32, "posebert.depth": 2, "posebert.heads": 2, "posebert.window": 8,
             "posebert.batch_size": 8, "posebert.iterations": 2, "posebert.log_every": 1, **extra}
    return [f"{k}={v}" for k, v in items.items()]


def torchrun(script: Path, args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    """Two processes of ``script``; killed with all its workers (no hang) after ``timeout`` s (a
    deadlock guard, generous: these runs take about 15 s, several times that on a loaded machine)."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script),
               *args]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"{' '.join(command)} still ran after {timeout} s: a deadlock")
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


@pytest.fixture(scope="module")
def ddp_run(tiny_corpus, tmp_path_factory):
    run = tmp_path_factory.mktemp("ddp") / "run"
    return run, torchrun(ROOT / "train.py", overrides(tiny_corpus, run))


def test_torchrun_trains_and_rank_0_alone_writes_the_run_folder(ddp_run):
    run, proc = ddp_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count("2 processes on cpu; batch sizes are per process: mocap_spin 2 x 4, "
                             "posebert 2 x 8 samples per step") == 1  # rank 1 logs nothing
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["last.pt"]
    for name in ("mocap_spin", "posebert"):
        rows = (run / f"metrics_{name}.csv").read_text().splitlines()
        assert [r.split(",")[0] for r in rows] == ["step", "1", "2"]
    assert len(list((run / "tensorboard").glob("*"))) == HAS_TENSORBOARD
    assert len(list((run / "pictures").iterdir())) == 1
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert state["done"] == {"mocap_spin": 2, "posebert": 2}
    assert not any(k.startswith("module.") for k in state["mocap_spin"]["model"])  # single-process layout
    ranks = state["rng_ranks"]
    assert len(ranks) == 2 and ranks[0]["generators"].keys() == {"mocap_spin", "posebert"}
    for task in ("mocap_spin", "posebert"):
        assert torch.equal(ranks[0]["generators"][task], state["rng"]["generators"][task])
        assert not torch.equal(ranks[0]["generators"][task], ranks[1]["generators"][task])
    assert (run / "posebert.pt").is_file() and (run / "mocap_spin.pt").is_file()


def test_resume_with_another_number_of_processes(tiny_corpus, ddp_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(ddp_run[0], run)
    lines = []
    changes = {"mocap_spin.iterations": 3, "posebert.iterations": 3, "resume": True}
    cfg = load_config(DEFAULT_CONFIG, overrides(tiny_corpus, run, **changes))
    train(cfg, log=lines.append)  # one process, no process group
    assert any("written by 2 process(es), this run has 1" in line and "continue for rank 0 and end for rank 1" in line
               for line in lines), lines
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert state["done"] == {"mocap_spin": 3, "posebert": 3} and len(state["rng_ranks"]) == 1
    rows = (run / "metrics_posebert.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["step", "1", "2", "3"]


def test_ranks_keep_the_same_models_and_draw_different_batches(tiny_corpus, tmp_path):
    run = tmp_path / "run"
    train(load_config(DEFAULT_CONFIG, overrides(tiny_corpus, run, **{"mocap_spin.iterations": 1,
                                                               "posebert.iterations": 1})), log=quiet)
    proc = torchrun(ROOT / "tests" / "ddp_probe.py", ["same-models", *overrides(tiny_corpus, run, resume=True)])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "written by 1 process(es), this run has 2" in proc.stdout
    assert "restart for rank 1 (seeded from seed and rank)" in proc.stdout


def test_nan_on_one_rank_stops_every_rank(tiny_corpus, tmp_path):
    args = overrides(tiny_corpus, tmp_path / "run", **{"mocap_spin.checkpoint_every": 1, "posebert.enabled": False})
    proc = torchrun(ROOT / "tests" / "ddp_probe.py", ["nan-on-rank-1", *args])
    assert proc.returncode != 0
    assert proc.stderr.count("train.py: error: mocap_spin: the loss became nan at step 2; training stopped") == 2
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")["done"] == {"mocap_spin": 1}


def _tiny_model() -> nn.Module:
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    model[0].requires_grad_(False)  # frozen, as most of HMR in BN-only fine-tuning
    model.width = 8
    return model


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.randn(8, 3, generator=g, dtype=torch.float64), torch.randn(8, 2, generator=g, dtype=torch.float64)


def _sgd_step(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    ((model(x) - y) ** 2).mean().backward()
    optimizer.step()


def _ddp_results(rank: int) -> dict:
    torch.manual_seed(rank)  # different initialisations: wrap broadcasts rank 0's
    model = wrap(_tiny_model(), DistContext(rank=rank, world_size=2))
    x, y = _batch()
    _sgd_step(model, x[4 * rank: 4 * rank + 4], y[4 * rank: 4 * rank + 4])  # each rank its half
    return {"state": model.state_dict(), "width": model.width,
            "finite": all_finite(torch.tensor(float("nan") if rank else 1.0)),
            "terms": mean_over_processes({"loss": float(rank), "lr": 0.5}, torch.device("cpu")),
            "gathered": gather(rank)}


def _ddp_worker(rank: int, store: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=2)
    try:
        torch.save(_ddp_results(rank), Path(out) / f"rank{rank}.pt")  # the DDP model is gone when it returns
    finally:
        cleanup()


def test_wrap_steps_like_one_process_on_the_whole_batch(tmp_path):
    mp.spawn(_ddp_worker, args=(str(tmp_path / "store"), str(tmp_path)), nprocs=2)
    torch.manual_seed(0)
    single = _tiny_model()
    _sgd_step(single, *_batch())
    results = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    for result in results:
        assert result["state"].keys() == single.state_dict().keys()  # no "module." prefix
        for key, value in single.state_dict().items():
            torch.testing.assert_close(result["state"][key], value, rtol=1e-12, atol=1e-12)
            assert torch.equal(result["state"][key], results[0]["state"][key])
        assert result["width"] == 8  # attributes read through to the module
        assert result["finite"] is False  # rank 1's NaN, seen by both
        assert result["terms"] == {"loss": 0.5, "lr": 0.5} and result["gathered"] == [0, 1]


@pytest.fixture(scope="module")
def streams(tiny_corpus, tmp_path_factory):
    cfg = load_config(None, overrides(tiny_corpus, tmp_path_factory.mktemp("streams"), **{"posebert.masked_frames": 0}))
    body = BodyModel(cfg.body.model_path)
    return cfg, body, *build_streams(cfg, body, torch.device("cpu"), log=quiet)


def test_every_trainable_parameter_gets_a_gradient(streams):
    """Why ``wrap`` leaves DDP's find_unused_parameters off: with every HMR parameter trainable
    each gets a gradient, so does each trainable one of any subset (mocap_spin.trainable; the
    resnet18 and resnet50 backbones were checked the same way); PoseBERT's too, mask token included
    when no frame is masked."""
    cfg, body, synthetic, real = streams
    cfg = copy.deepcopy(cfg)
    cfg.mocap_spin.trainable = "all"
    trainer = MocapSpinTrainer(cfg.mocap_spin, body, synthetic, real, CPU, log=quiet)
    trainer.step(torch.Generator().manual_seed(0))
    assert all(p.grad is not None for p in trainer.model.parameters())
    index = load_motion(cfg, CPU, quiet)
    for variant, kind in [("paper", "smpl"), ("released", "smpl"), ("paper", "h36m")]:
        cfg.posebert.variant, cfg.posebert.input = variant, kind
        trainer = PoseBertTrainer(cfg.posebert, index, body, CPU, log=quiet)
        trainer.step(torch.Generator().manual_seed(0))
        assert all(p.grad is not None for p in trainer.model.parameters()), (variant, kind)


def test_sync_batchnorm_keeps_the_trainable_subset(streams):
    cfg, body, synthetic, real = streams
    cfg = copy.deepcopy(cfg)
    cfg.mocap_spin.trainable = "bn+regressor"
    plain = MocapSpinTrainer(cfg.mocap_spin, body, synthetic, real, CPU, log=quiet)
    synced = MocapSpinTrainer(cfg.mocap_spin, body, synthetic, real, CPU, log=quiet, sync_batchnorm=True)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in synced.model.modules())
    assert [n for n, p in synced.model.named_parameters() if p.requires_grad] == \
        [n for n, p in plain.model.named_parameters() if p.requires_grad]
    assert synced.model.state_dict().keys() == plain.model.state_dict().keys()  # the same checkpoints
    synced.step(torch.Generator().manual_seed(0))  # no process group: plain batch norm


def test_process_devices_and_their_errors(monkeypatch):
    for name, value in {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2"}.items():
        monkeypatch.setenv(name, value)

    def cfg(**items):
        return load_config(None, [f"{k}={v}" for k, v in items.items()])

    with pytest.raises(MocapHMRError, match="sync_batchnorm=true needs CUDA devices"):
        init_distributed(cfg(device="cpu", **{"distributed.sync_batchnorm": True}))
    with pytest.raises(MocapHMRError, match="device=cuda:1: with several processes each one takes cuda:LOCAL_RANK"):
        init_distributed(cfg(device="cuda:1"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(MocapHMRError, match="torchrun started 2 processes on this machine but only 1 CUDA device"):
        init_distributed(cfg(device="auto"))


def test_rank_seeds():
    assert rank_seed(7, 0) == 7  # one process is the single-process run
    seeds = {rank_seed(s, r) for s in range(4) for r in range(8)}
    assert len(seeds) == 32 and all(0 <= s < 2**64 for s in seeds)


def test_a_model_with_nothing_to_train_is_not_wrapped():
    model = nn.Linear(2, 2).requires_grad_(False)  # DDP refuses a module without a trainable parameter
    assert wrap(model, DistContext(world_size=2)) is model


def test_torchrun_re_estimates_the_batch_norm_statistics_alone(tiny_corpus, tmp_path):
    from mocap_hmr.models.checkpoints import read_checkpoint

    run = tmp_path / "run"
    proc = torchrun(ROOT / "train.py", overrides(tiny_corpus, run, **{"mocap_spin.trainable": "bn-stats",
                                                                      "posebert.enabled": False}))
    assert proc.returncode == 0, proc.stderr[-3000:]
    final = read_checkpoint(run / "mocap_spin.pt")["model"]
    start = read_checkpoint(run / "mocap_spin_start.pt")["model"]
    changed = {k for k in final if not torch.equal(final[k], start[k])}
    assert changed and all(k.endswith(("running_mean", "running_var", "num_batches_tracked")) for k in changed)
