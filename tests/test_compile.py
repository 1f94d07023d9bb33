"""``mocap_spin.compile`` and ``posebert.compile``: a compiled run trains like a plain one
(the same losses, within float tolerance), its checkpoints keep the plain modules' keys, and
a compiler failure names the key. Skipped where torch.compile cannot run."""

from pathlib import Path

import pytest
import torch

from mocap_hmr.config import load_config
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.models.posebert import load_posebert
from mocap_hmr.training.checkpointing import load_checkpoint
from mocap_hmr.training.compile import compile_errors
from mocap_hmr.training.runner import train


@pytest.fixture(scope="module")
def compiler():
    """Skips the module where torch.compile cannot build a trivial function."""
    try:
        torch.compile(lambda x: x * 2 + 1)(torch.ones(3))
    except RuntimeError as exc:
        pytest.skip(f"torch.compile does not run here: {exc}")


def run(tiny_corpus, out_dir: Path, compile: bool) -> Path:
    body_dir, index = tiny_corpus
    items = {"out_dir": out_dir, "device": "cpu", "body.model_path": body_dir, "motion.index": index,
             "tensorboard": False, "render.image_size": 32, "render.backend": "torch",
             "mocap_spin.backbone": "tiny",
             "stand_in_spin.enabled": False, "stand_in_spin.images": 16,
             "mocap_spin.batch_size": 4, "mocap_spin.iterations": 2,
             "mocap_spin.trainable": "all", "mocap_spin.lr": 1e-3, "mocap_spin.log_every": 1,
             "posebert.dim": 32, "posebert.depth": 2, "posebert.heads": 2, "posebert.window": 8,
             "posebert.batch_size": 8, "posebert.iterations": 2, "posebert.log_every": 1,
             "mocap_spin.compile": compile, "posebert.compile": compile}
    return train(load_config(None, [f"{k}={v}" for k, v in items.items()]), log=lambda m: None)


def losses(run_dir: Path, name: str) -> list[float]:
    rows = (run_dir / f"metrics_{name}.csv").read_text().splitlines()
    column = rows[0].split(",").index("loss")
    return [float(r.split(",")[column]) for r in rows[1:]]


def test_a_compiled_run_trains_like_a_plain_one_and_keeps_checkpoint_keys(compiler, tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr("torch._inductor.config.fallback_random", True)  # dropout draws eager's masks
    plain, compiled = run(tiny_corpus, tmp_path / "plain", False), run(tiny_corpus, tmp_path / "compiled", True)
    for name in ("mocap_spin", "posebert"):  # the second step's loss follows the first compiled backward
        assert losses(compiled, name) == pytest.approx(losses(plain, name), rel=1e-4), name
    for name, keys in load_checkpoint(plain / "checkpoints" / "last.pt").items():
        if isinstance(keys, dict) and "model" in keys:
            saved = load_checkpoint(compiled / "checkpoints" / "last.pt")[name]["model"]
            assert list(saved) == list(keys["model"]), name
    spin = torch.load(compiled / "mocap_spin.pt", weights_only=True)["model"]
    assert not [k for k in spin if k.startswith("_orig_mod.")]
    load_posebert(compiled / "posebert.pt")  # strict: the keys fit a plain PoseBERT


def test_a_compiler_failure_names_the_key(compiler):
    def failing_backend(graph, inputs):
        raise RuntimeError("no C++ compiler")

    with pytest.raises(MocapHMRError, match=r"posebert\.compile=true .*no C\+\+ compiler.*posebert\.compile=false"):
        with compile_errors("posebert.compile"):
            torch.compile(lambda x: x.sin() + 1, backend=failing_backend)(torch.ones(3))
