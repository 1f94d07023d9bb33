"""The run's TensorBoard events: read back by tensorboard's own EventAccumulator where the optional
package is installed; without it, a run trains the same and says once how to get them."""

import sys

import numpy as np
import pytest
from test_training import config

from mocap_hmr.imageio import read_image
from mocap_hmr.training.runner import train

QUIET = {"log": lambda m: None}


def test_tensorboard_reads_the_runs_metrics_and_pictures(tiny_corpus, tmp_path):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    run = tmp_path / "run"
    both = {"posebert.enabled": True, "posebert.iterations": 2, "mocap_spin.picture_every": 1}
    train(config(tiny_corpus, run, **{**both, "mocap_spin.iterations": 1}), **QUIET)
    train(config(tiny_corpus, run, **both, resume=True, **{"mocap_spin.iterations": 2}), **QUIET)
    assert len(list((run / "tensorboard").glob("events.out.tfevents.*"))) == 2  # one per start of the run
    events = event_accumulator.EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    assert {"mocap_spin/loss", "mocap_spin/samples_per_s", "posebert/joints"} <= set(events.Tags()["scalars"])
    rows = (run / "metrics_posebert.csv").read_text().splitlines()
    assert [(s.step, s.value) for s in events.Scalars("posebert/loss")] == [
        (int(row.split(",")[0]), pytest.approx(float(row.split(",")[1]), rel=1e-6)) for row in rows[1:]]
    pictures = events.Images("mocap_spin/predictions")
    assert [p.step for p in pictures] == [1, 2]
    decoded = tmp_path / "decoded.png"
    decoded.write_bytes(pictures[-1].encoded_image_string)
    np.testing.assert_array_equal(read_image(decoded), read_image(run / "pictures" / "step_000002.png"))


def test_without_tensorboard_the_run_trains_and_says_so_once(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboard", None)  # as if it were not installed
    logs = []
    train(config(tiny_corpus, tmp_path / "run", **{"mocap_spin.iterations": 1}), log=logs.append)
    said = [m for m in logs if "tensorboard package is not installed" in m]
    assert len(said) == 1 and "pip install tensorboard" in said[0] and "tensorboard=false" in said[0]
    assert (tmp_path / "run" / "mocap_spin.pt").is_file() and not (tmp_path / "run" / "tensorboard").exists()
    assert logs[-1].endswith("mocap_spin.pt, posebert.pt)")
    logs.clear()
    train(config(tiny_corpus, tmp_path / "silent", tensorboard=False, **{"mocap_spin.iterations": 1}),
          log=logs.append)
    assert not any("tensorboard package" in m for m in logs)
