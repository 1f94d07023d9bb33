"""``mocap-hmr`` arguments out of range or not among their choices: one line naming the
argument and what it accepts, exit status 2."""

import pytest

from mocap_hmr.cli import main


@pytest.mark.parametrize("argv, expected", [
    ("index-amass root --out i.npz --fps 0", "mocap-hmr index-amass: error: argument --fps: 0: expected a finite "
                                              "number > 0 (frames per second)"),
    ("synth-motion --out m --minutes -1", "mocap-hmr synth-motion: error: argument --minutes: -1: expected a finite "
                                          "number > 0 (minutes)"),
    ("render-preview --out p.png --size 7", "mocap-hmr render-preview: error: argument --size: 7: expected a whole "
                                            "number >= 32 (pixels)"),
    ("render-preview --out p.png --backend opengl", "mocap-hmr render-preview: error: argument --backend: invalid "
                                                    "choice: 'opengl' (choose from 'auto', 'torch', 'pytorch3d')"),
    ("render-preview --out p.png --device gpu", "mocap-hmr render-preview: error: argument --device: gpu: expected "
                                                "auto, cpu, cuda or cuda:N"),
    ("smooth a.npz b.npz --window 1", "mocap-hmr smooth: error: argument --window: 1: expected a whole number >= 2"),
    ("smooth a.npz b.npz --stride 0", "mocap-hmr smooth: error: argument --stride: 0: expected a whole number >= 1"),
    ("smooth a.npz b.npz --fps abc", "mocap-hmr smooth: error: argument --fps: abc: expected a number"),
])
def test_a_bad_argument_is_one_line(tmp_path, monkeypatch, capsys, argv, expected):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        main(argv.split())
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(expected), err
    assert list(tmp_path.iterdir()) == []
