"""The before/after video of ``smooth --video``: frames drawn by the project's rasterizer on the
body in use, one fixed camera (a still pose draws the same picture every frame), the input's
jitter visible as change between frames where the smoothed half changes less, the measures
written on it; GIF read back by Pillow, MP4 only where imageio-ffmpeg is installed."""

import pickle

import numpy as np
import pytest
import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.cli import main
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.imageio import write_video
from mocap_hmr.vis.video import MARGIN, side_by_side_frames
from renderers.body_views import hold_unobserved

Image = pytest.importorskip("PIL.Image")


def test_halves_fixed_camera_and_jitter(tiny_body_dir):
    body = BodyModel(tiny_body_dir)
    gen = torch.Generator().manual_seed(0)
    still = axis_angle_to_matrix(0.3 * torch.randn(1, 24, 3, generator=gen)).expand(5, 24, 3, 3)
    shaky = axis_angle_to_matrix(0.3 * torch.randn(5, 24, 3, generator=gen))
    frames = side_by_side_frames(body, shaky, still, ("input", "smoothed"), "acc 1 -> 0", size=64)
    assert frames.shape == (5, 64 + 2 * MARGIN, 128, 3) and frames.dtype == np.uint8
    left, right = frames[:, MARGIN:MARGIN + 64, :64], frames[:, MARGIN:MARGIN + 64, 64:]
    assert (right != 255).any() and (left != 255).any()  # a body on both halves
    assert all(np.array_equal(right[0], right[t]) for t in range(5))  # still pose, fixed camera: same picture
    assert not np.array_equal(left[0], left[1])
    assert (frames[:, -MARGIN:] != 255).any()  # the caption


def test_camera_frame_poses_are_shown_upright(tiny_body_dir):
    """Poses in an image model's camera frame (root turned by any rotation) draw the same
    pictures as the same motion in the world frame: the view follows the first root."""
    body = BodyModel(tiny_body_dir)
    gen = torch.Generator().manual_seed(1)
    motion = axis_angle_to_matrix(0.2 * torch.randn(3, 24, 3, generator=gen))
    turn = axis_angle_to_matrix(torch.tensor([[3.0, 0.4, -0.2]]))[0]  # about upside down
    seen = motion.clone()
    seen[:, 0] = turn @ motion[:, 0]
    world = side_by_side_frames(body, motion, motion, ("a", "b"), "c", size=64)
    camera = side_by_side_frames(body, seen, seen, ("a", "b"), "c", size=64)
    differ = (np.abs(world.astype(int) - camera.astype(int)) > 8).any(-1).mean()
    assert differ < 0.002  # rasterization of slightly different floats: a few edge pixels


def test_hold_unobserved():
    r = axis_angle_to_matrix(torch.randn(4, 24, 3))
    r[[0, 2]] = float("nan")
    held = hold_unobserved(r)
    torch.testing.assert_close(held[0], r[1])
    torch.testing.assert_close(held[2], r[1])
    torch.testing.assert_close(held[3], r[3])


def test_smooth_video_cli_gif(tmp_path, tiny_body_dir, capsys):
    rng = np.random.default_rng(0)
    data = {3: {"pose": rng.normal(scale=0.2, size=(12, 72)).astype(np.float32)}, 5: {"pose": np.zeros((4, 72))}}
    (tmp_path / "pred.pkl").write_bytes(pickle.dumps(data))
    assert main(["smooth", str(tmp_path / "pred.pkl"), str(tmp_path / "out.pkl"), "--method", "average",
                 "--track", "3", "--video", str(tmp_path / "v.gif"), "--body", str(tiny_body_dir),
                 "--video-size", "64", "--fps", "10"]) == 0
    assert "video in" in capsys.readouterr().out
    with Image.open(tmp_path / "v.gif") as gif:
        assert gif.n_frames == 12 and gif.size == (128, 64 + 2 * MARGIN)
        assert gif.info["duration"] == 100
    with open(tmp_path / "out.pkl", "rb") as fh:
        np.testing.assert_array_equal(pickle.load(fh)[5]["pose"], data[5]["pose"])  # --track: the other untouched


def test_video_writers(tmp_path):
    frames = np.zeros((3, 10, 12, 3), np.uint8)
    with pytest.raises(MocapHMRError, match=r"v.avi: videos are written as .gif or .mp4"):
        write_video(tmp_path / "v.avi", frames, 30)
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        with pytest.raises(MocapHMRError, match=r"v.mp4: writing an MP4 needs imageio and imageio-ffmpeg"):
            write_video(tmp_path / "v.mp4", frames, 30)
        assert not (tmp_path / "v.mp4").exists()
    else:
        assert write_video(tmp_path / "v.mp4", frames, 30).stat().st_size > 0
