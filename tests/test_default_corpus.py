"""The embedded default corpus and the synth-motion command."""

from mocap_hmr.cli import main
from mocap_hmr.data.default_corpus import default_motion_index
from mocap_hmr.data.motion_index import load_index
from mocap_hmr.imageio import read_image


def test_default_corpus_is_built_once_and_reused(tmp_path):
    root = tmp_path / "procedural_motion"
    messages = []
    index_file = default_motion_index(fps=30, minutes=0.5, root=root, log=messages.append)
    index = load_index(index_file)
    assert index.fps == 30 and abs(index.num_frames - 0.5 * 60 * 30) <= index.num_sequences  # half a minute
    assert any("synthesizing" in m for m in messages)
    messages.clear()
    assert default_motion_index(fps=30, minutes=0.5, root=root, log=messages.append) == index_file
    assert messages == []  # nothing rebuilt
    (root / "corpus.json").unlink()  # an interrupted synthesis is redone
    default_motion_index(fps=30, minutes=0.5, root=root, log=messages.append)
    assert any("synthesizing" in m for m in messages)
    index15 = load_index(default_motion_index(fps=15, minutes=0.5, root=root, log=lambda m: None))
    assert index15.fps == 15 and index15.num_sequences == index.num_sequences


def test_synth_motion_cli_with_preview(tmp_path, capsys):
    png = tmp_path / "motion.png"
    assert main(["synth-motion", "--out", str(tmp_path / "m"), "--minutes", "0.5", "--seed", "3",
                 "--preview", str(png)]) == 0
    assert "procedural motion:" in capsys.readouterr().out
    assert read_image(png).shape[0] > 0
    assert len(list((tmp_path / "m").rglob("*.npz"))) >= 2
