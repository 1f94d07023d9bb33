"""The motion corpus index: contents, skipped files, incremental re-indexing, bad files,
and indexes of another version or cut short."""

import os

import numpy as np
import pytest
import torch
from amass_files import write_amass

from mocap_hmr.cli import main
from mocap_hmr.data.amass import MotionFileError, load_amass_npz
from mocap_hmr.data.motion_index import INDEX_VERSION, IndexFileError, build_index, load_index
from mocap_hmr.errors import MocapHMRError


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "amass"
    write_amass(root / "CMU" / "01" / "01_01_poses.npz", n_frames=121, fps=120.0)
    write_amass(root / "CMU" / "01" / "01_02_poses.npz", n_frames=201, fps=100.0, fps_key="mocap_frame_rate")
    write_amass(root / "KIT" / "3" / "walk_poses.npz", n_frames=61, fps=60.0, width=72, gender="female")
    np.savez(root / "CMU" / "01" / "shape.npz", betas=np.zeros(16), gender=np.array("male"))
    np.savez(root / "KIT" / "3" / "stats.npz", mean=np.zeros(3))  # an npz without motion
    (root / "KIT" / "3" / "video.mp4").write_bytes(b"\x00" * 10)
    (root / "README.txt").write_text("hello")
    return root


def test_index_holds_every_frame(corpus, tmp_path):
    out = tmp_path / "index.npz"
    report = build_index(corpus, out, log=lambda m: None)
    assert (report.sequences, report.read, report.not_motion, report.bad) == (3, 3, 4, [])
    index = load_index(out)
    assert index.names == ["CMU/01/01_01_poses.npz", "CMU/01/01_02_poses.npz", "KIT/3/walk_poses.npz"]
    assert index.lengths.tolist() == [31, 61, 31] and index.num_frames == 123
    assert index.poses.dtype == torch.float32 and index.poses.shape == (123, 24, 3)
    assert index.gender == ["male", "male", "female"] and index.source_fps.tolist() == [120.0, 100.0, 60.0]
    for s, name in enumerate(index.names):
        motion = load_amass_npz(corpus / name, fps=30)
        frames = slice(int(index.offsets[s]), int(index.offsets[s + 1]))
        np.testing.assert_array_equal(index.poses[frames].numpy(), motion["poses"])
        np.testing.assert_array_equal(index.trans[frames].numpy(), motion["trans"])
    assert index.frame_sequence().tolist() == [0] * 31 + [1] * 61 + [2] * 31


def test_select_keeps_the_chosen_sequences_and_spans_in_order(corpus, tmp_path):
    out = tmp_path / "index.npz"
    build_index(corpus, out, log=lambda m: None)
    index = load_index(out)  # lengths 31, 61, 31
    picked = index.select([2, 1], spans=[(0, 31), (10, 25)])
    assert picked.names == ["KIT/3/walk_poses.npz", "CMU/01/01_02_poses.npz"] and picked.lengths.tolist() == [31, 15]
    start = int(index.offsets[1])
    torch.testing.assert_close(picked.poses, torch.cat([index.poses[92:123], index.poses[start + 10:start + 25]]))
    torch.testing.assert_close(picked.trans[31:], index.trans[start + 10:start + 25])
    assert picked.gender == ["female", "male"] and picked.betas.shape == (2, index.betas.shape[1])
    for spans in ([(0, 32), (0, 5)], [(5, 5), (0, 5)], [(0, 5)]):  # past the end, empty, one short
        with pytest.raises(MocapHMRError, match="spans must be one non-empty"):
            index.select([2, 1], spans=spans)


def test_reindexing_reads_only_new_and_changed_files(corpus, tmp_path):
    out = tmp_path / "index.npz"
    build_index(corpus, out, log=lambda m: None)
    write_amass(corpus / "KIT" / "4" / "new_poses.npz", n_frames=41)
    changed = corpus / "CMU" / "01" / "01_01_poses.npz"
    write_amass(changed, n_frames=241)
    os.utime(changed, ns=(1, 1))  # a different modification time
    (corpus / "KIT" / "3" / "walk_poses.npz").unlink()
    report = build_index(corpus, out, log=lambda m: None)
    assert (report.read, report.reused, report.removed, report.sequences) == (2, 1, 1, 3)
    index = load_index(out)
    assert index.names == ["CMU/01/01_01_poses.npz", "CMU/01/01_02_poses.npz", "KIT/4/new_poses.npz"]
    assert index.lengths.tolist() == [61, 61, 11]


def test_other_fps_reindexes_everything(corpus, tmp_path):
    out = tmp_path / "index.npz"
    build_index(corpus, out, log=lambda m: None)
    messages = []
    report = build_index(corpus, out, fps=15, log=messages.append)
    assert report.read == 3 and "30.0 fps, not 15" in messages[0]
    assert load_index(out).fps == 15


def test_bad_file_stops_or_is_skipped(corpus, tmp_path):
    write_amass(corpus / "CMU" / "bad_poses.npz", poses=np.zeros((121, 63)))
    out = tmp_path / "index.npz"
    with pytest.raises(MotionFileError, match=r"bad_poses.npz: poses has shape \(121, 63\).*--skip-bad"):
        build_index(corpus, out, log=lambda m: None)
    assert not out.exists()
    report = build_index(corpus, out, skip_bad=True, log=lambda m: None)
    assert report.sequences == 3 and len(report.bad) == 1 and "bad_poses.npz" in report.bad[0]


def test_folder_without_motion(tmp_path):
    (tmp_path / "empty").mkdir()
    np.savez(tmp_path / "empty" / "shape.npz", betas=np.zeros(16))
    with pytest.raises(MotionFileError, match=r"empty: no motion file found \(1 other files skipped"):
        build_index(tmp_path / "empty", tmp_path / "index.npz", log=lambda m: None)


def test_index_cut_short_or_of_another_version(corpus, tmp_path):
    out = tmp_path / "index.npz"
    build_index(corpus, out, log=lambda m: None)
    good = out.read_bytes()
    out.write_bytes(good[: len(good) // 2])
    with pytest.raises(IndexFileError, match="cut short or corrupt"):
        load_index(out)
    messages = []
    build_index(corpus, out, log=messages.append)  # a broken previous index is rebuilt
    assert "not reused" in messages[0] and load_index(out).num_sequences == 3
    with np.load(out) as npz:
        arrays = dict(npz)
    arrays["version"] = np.array(INDEX_VERSION + 1)
    np.savez(out, **arrays)
    with pytest.raises(IndexFileError, match="written by another version"):
        load_index(out)
    np.savez(out, poses=np.zeros((3, 24, 3)))
    with pytest.raises(IndexFileError, match="not a mocap-hmr motion index"):
        load_index(out)
    with pytest.raises(IndexFileError, match="no such motion index"):
        load_index(tmp_path / "nope.npz")


def test_cli(corpus, tmp_path, capsys):
    out = tmp_path / "index.npz"
    assert main(["index-amass", str(corpus), "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "3 sequences, 123 frames" in printed.out and "not motion 4" in printed.out
    assert "indexing" in printed.err and "4/4" in printed.err  # 4 .npz candidates, one without motion


def test_linked_folders_are_followed_and_loops_reported(corpus, tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere" / "BMLrub"
    write_amass(elsewhere / "s1" / "run_poses.npz", n_frames=61, fps=60.0)
    (corpus / "BMLrub").symlink_to(elsewhere, target_is_directory=True)  # a subject folder linked from elsewhere
    (elsewhere / "s1" / "loop").symlink_to(elsewhere, target_is_directory=True)  # a link back up: a loop
    (corpus / "KIT" / "again").symlink_to(corpus / "KIT" / "3", target_is_directory=True)  # one folder twice
    out = tmp_path / "index.npz"
    report = build_index(corpus, out, log=lambda m: None)
    assert load_index(out).names == ["BMLrub/s1/run_poses.npz", "CMU/01/01_01_poses.npz", "CMU/01/01_02_poses.npz",
                                     "KIT/3/walk_poses.npz"]
    assert sorted(r.split(":")[0] for r in report.repeated_folders) == [str(corpus / "BMLrub" / "s1" / "loop"),
                                                                       str(corpus / "KIT" / "again")]
    assert f"leads to {elsewhere}, walked already as {corpus / 'BMLrub'}" in " ".join(report.repeated_folders)
    assert main(["index-amass", str(corpus), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"skipped linked folder {corpus / 'KIT' / 'again'}: leads to" in printed
    assert "4 sequences" in printed and "linked folders walked already 2" in printed
