"""A run folder belongs to one run: a second run, a concurrent process, a run that fails at
start-up or a full disk never change what an earlier run left; bad settings and places are
one line naming the key."""

import errno
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_training import HAS_TENSORBOARD, config, train_script

from mocap_hmr.training.checkpointing import load_checkpoint
from mocap_hmr.training.run_folder import LOCK_FILE, RunFolderError, RunLock
from mocap_hmr.training.runner import train

QUIET = {"log": lambda m: None}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def finished(tiny_corpus, tmp_path_factory):
    """A finished one-step run: its folder and its files."""
    run = tmp_path_factory.mktemp("finished") / "run"
    train(config(tiny_corpus, run, **{"mocap_spin.iterations": 1}), **QUIET)
    return run, snapshot(run)


def test_a_second_run_into_a_run_folder_is_refused(tiny_corpus, finished, capsys):
    run, files = finished
    with pytest.raises(RunFolderError, match=r"holds a finished run \(checkpoints/, config.yaml, .*\): "
                                             r"resume=true continues it, overwrite=true clears it first, or choose"):
        train(config(tiny_corpus, run), **QUIET)
    assert snapshot(run) == files
    args = [f"{k}={v}" for k, v in {"out_dir": run, "device": "cpu", "mocap_spin.iterations": 1}.items()]
    assert train_script.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"train.py: error: out_dir={run} holds a finished run")
    assert snapshot(run) == files


def test_overwrite_clears_the_earlier_run_and_nothing_else(tiny_corpus, tmp_path):
    run = tmp_path / "run"
    train(config(tiny_corpus, run, **{"mocap_spin.iterations": 1, "mocap_spin.picture_every": 1}), **QUIET)
    (run / "notes.txt").write_text("mine")
    assert (run / "pictures" / "step_000001.png").is_file()
    logs = []
    train(config(tiny_corpus, run, overwrite=True, seed=3, **{"mocap_spin.iterations": 2}), log=logs.append)
    assert any("overwrite=true" in m and "removing it" in m for m in logs)
    assert not (run / "pictures").exists() or not list((run / "pictures").glob("step_000001.png"))
    assert len(list((run / "tensorboard").glob("events.*"))) == HAS_TENSORBOARD  # this run's alone
    assert (run / "notes.txt").read_text() == "mine"
    rows = (run / "metrics_mocap_spin.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows] == ["step", "1", "2"]
    assert load_checkpoint(run / "checkpoints" / "last.pt")["config"]["seed"] == 3
    with pytest.raises(RunFolderError, match="set one of them"):
        train(config(tiny_corpus, run, overwrite=True, resume=True), **QUIET)


HOLDER = """
import sys, time
from pathlib import Path
from mocap_hmr.training.run_folder import RunLock
Path(sys.argv[1]).mkdir(parents=True, exist_ok=True)
RunLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
time.sleep(120)
"""


def test_a_second_process_on_one_folder_is_refused_naming_the_first(tiny_corpus, tmp_path):
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(run)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(RunFolderError, match=f"out_dir={run} is in use by process {holder.pid} "
                                                 r"\(its lock: .*\.lock\); wait for it to end"):
            train(config(tiny_corpus, run, **{"mocap_spin.iterations": 1}), **QUIET)
        assert sorted(p.name for p in run.iterdir()) == [LOCK_FILE]
    finally:
        holder.kill()
        holder.wait()
    logs = []  # the holder is gone: its lock is taken over
    train(config(tiny_corpus, run, **{"mocap_spin.iterations": 1}), log=logs.append)
    assert any(f"took over the lock of process {holder.pid}, which is gone" in m for m in logs)
    assert not (run / LOCK_FILE).exists()


def test_the_lock_refuses_a_second_holder_and_is_released():
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        first = RunLock(Path(folder))
        assert first.acquire() is None
        with pytest.raises(RunFolderError, match=f"in use by process {os.getpid()}"):
            RunLock(Path(folder)).acquire()
        first.release()
        second = RunLock(Path(folder))
        assert second.acquire() is None
        second.release()


def test_a_run_that_fails_at_start_up_leaves_the_folder_alone(tiny_corpus, finished, tmp_path):
    run, files = finished
    with pytest.raises(Exception, match="body.model_path"):
        train(config(tiny_corpus, run, resume=True, **{"body.model_path": tmp_path / "nowhere"}), **QUIET)
    broken = tmp_path / "broken_index.npz"
    broken.write_bytes(b"not an index")
    with pytest.raises(Exception, match="broken_index.npz"):
        train(config(tiny_corpus, run, resume=True, **{"motion.index": broken}), **QUIET)
    assert snapshot(run) == files


def test_a_bad_out_dir_is_one_line(tiny_corpus, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    with pytest.raises(RunFolderError, match=f"out_dir={a_file / 'run'} lies under {a_file}, a file, not a folder"):
        train(config(tiny_corpus, a_file / "run"), **QUIET)
    with pytest.raises(RunFolderError, match=f"out_dir={a_file} is a file, not a folder"):
        train(config(tiny_corpus, a_file), **QUIET)
    with pytest.raises(RunFolderError, match="out_dir=/proc/forbidden (cannot be created|is not writable)"):
        train(config(tiny_corpus, "/proc/forbidden", **{"mocap_spin.iterations": 1}), **QUIET)


def test_a_full_disk_names_the_file_and_the_intact_checkpoint(tiny_corpus, tmp_path, monkeypatch):
    run = tmp_path / "run"
    real_fsync, calls = os.fsync, {"n": 0}

    def filling(fd):  # the second checkpoint meets a full disk
        checkpoint = "last.pt" in os.readlink(f"/proc/self/fd/{fd}")
        calls["n"] += checkpoint
        if checkpoint and calls["n"] == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", filling)
    ckpt = run / "checkpoints" / "last.pt"
    with pytest.raises(RunFolderError, match=f"{ckpt}: cannot be written \\(No space left on device\\); run folder "
                                             f"{run}; the last checkpoint, {ckpt}, is intact: resume=true continues"):
        train(config(tiny_corpus, run), **QUIET)
    assert load_checkpoint(ckpt)["done"]["mocap_spin"] == 2
    assert not [p for p in ckpt.parent.iterdir() if p.name != "last.pt"]  # no temporary file left
    train(config(tiny_corpus, run, resume=True), **QUIET)
    assert load_checkpoint(ckpt)["done"]["mocap_spin"] == 4


def test_a_full_disk_at_the_first_checkpoint_says_none_was_written(tiny_corpus, tmp_path, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    run = tmp_path / "run"
    with pytest.raises(RunFolderError, match=f"{run / 'checkpoints' / 'last.pt'}: cannot be written \\(No space left "
                                             f"on device\\); run folder {run}; no checkpoint had been written yet"):
        train(config(tiny_corpus, run, tensorboard=False), **QUIET)
    assert not (run / "checkpoints" / "last.pt").exists()


@pytest.mark.parametrize("setting, expected", [
    ("mocap_spin.batch_size=0", "mocap_spin.batch_size=0: expected a whole number >= 1"),
    ("mocap_spin.batch_size=-3", "mocap_spin.batch_size=-3: expected a whole number >= 1"),
    ("mocap_spin.lr=nan", "mocap_spin.lr=nan: expected a finite number > 0"),
    ("posebert.lr=-1e-4", "posebert.lr=-0.0001: expected a finite number > 0"),
    ("render.image_size=7", "render.image_size=7: expected a whole number >= 32 (the ResNet backbones reduce"),
    ("posebert.window=1", "posebert.window=1: expected a whole number >= 2 (frames: a sequence model"),
    ("posebert.masked_frames=20", "posebert.masked_frames=20.0: expected 0 to posebert.window (16)"),
    ("mocap_spin.backbone=resnet999", "mocap_spin.backbone=resnet999: expected one of resnet50, resnet18, tiny"),
    ("render.backend=opengl", "render.backend=opengl: expected one of auto, torch, pytorch3d"),
    ("mocap_spin.trainable=most", "mocap_spin.trainable=most: expected one of bn, bn+regressor"),
    ("posebert.view=side", "posebert.view=side: expected one of camera, world"),
    ("posebert.start=zero", "posebert.start=zero: expected one of mean, input"),
    ("posebert.regressor=middle", "posebert.regressor=middle: expected one of blocks, top"),
    ("posebert.positional_encoding=sine", "posebert.positional_encoding=sine: expected one of input, every_block"),
    ("posebert.mask_mode=all", "posebert.mask_mode=all: expected one of bernoulli, span"),
    ("mocap_spin.precision=fp16", "mocap_spin.precision=fp16: expected one of bf16, fp32"),
    ("eval.align=feet", "eval.align=feet: expected one of pelvis, hips"),
    ("mocap_spin.synthetic_fraction=1.5", "mocap_spin.synthetic_fraction=1.5: expected a finite number >= 0 and <= 1"),
    ("device=gpu", "device=gpu: expected auto, cpu, cuda or cuda:N"),
])
def test_a_bad_setting_is_one_line_naming_its_key_and_writes_nothing(tmp_path, capsys, setting, expected):
    out = tmp_path / "run"
    assert train_script.main([f"out_dir={out}", setting]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"train.py: error: {expected}"), err
    assert not out.exists()


def test_several_bad_settings_are_one_line_each(capsys):
    assert train_script.main(["mocap_spin.batch_size=0", "mocap_spin.lr=nan"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "train.py: error: 2 settings of the configuration are out of range:"
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["mocap_spin.batch_size=0", "mocap_spin.lr=nan"]


def test_readme_command_refuses_a_second_time_and_resumes(tmp_path):
    """``python train.py`` twice in one place: the second says how to go on."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]), "OMP_NUM_THREADS": "1"}
    script = Path(__file__).parents[1] / "train.py"
    run = tmp_path / "runs" / "default"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text("seed: 0\n")
    started = time.time()
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 2 and time.time() - started < 120
    assert proc.stderr == ("train.py: error: out_dir=runs/default holds a started run (checkpoints/, config.yaml): "
                           "resume=true continues it, overwrite=true clears it first, or choose another out_dir\n")
    assert (run / "config.yaml").read_text() == "seed: 0\n"
