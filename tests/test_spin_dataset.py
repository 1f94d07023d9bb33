"""SPIN-format datasets: crops, keypoints, flips and rotations that agree with the image,
and the bad inputs of BAD_INPUTS 13-14."""

import numpy as np
import pytest
import torch

from mocap_hmr.body import SPIN_JOINT_NAMES
from mocap_hmr.data.spin_dataset import DatasetError, SpinAugment, SpinDataset
from mocap_hmr.imageio import denormalize_images, write_png

J = {name: i for i, name in enumerate(SPIN_JOINT_NAMES)}


def write_dataset(tmp_path, n=4, **overrides):
    """Images of 200 x 240 px with one bright dot at the 'Left Hip' keypoint."""
    rng = np.random.default_rng(0)
    names, parts = [], []
    for i in range(n):
        image = np.zeros((200, 240, 3), dtype=np.uint8)
        x, y = rng.uniform(90, 150), rng.uniform(70, 130)
        image[int(y) - 2:int(y) + 3, int(x) - 2:int(x) + 3] = 255  # a 5 x 5 dot centred on the keypoint
        write_png(tmp_path / "images" / f"im{i}.png", image)
        part = np.zeros((24, 3))
        part[:, :2] = [120, 100]
        part[J["Left Hip"] - 25] = [int(x) + 0.5, int(y) + 0.5, 1]
        part[J["Right Hip"] - 25] = [120 - 20, 100, 1]
        names.append(f"im{i}.png")
        parts.append(part)
    arrays = {"imgname": np.array(names), "center": np.tile([120.0, 100.0], (n, 1)), "scale": np.full(n, 0.6),
              "part": np.stack(parts), "S": np.zeros((n, 24, 4)), "pose": np.zeros((n, 72)),
              "shape": np.zeros((n, 10)), "has_smpl": np.ones(n)}
    arrays["S"][:, J["Left Hip"] - 25] = [0.1, 0.0, 0.0, 1.0]
    arrays.update(overrides)
    path = tmp_path / "data.npz"
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return path


def dot_centre(sample):
    """Brightness-weighted centre (x, y) of the dot in the crop, in pixels."""
    image = denormalize_images(sample["images"]).sum(0)
    size = image.shape[-1]
    ys, xs = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    return np.array([(image * xs).sum() / image.sum(), (image * ys).sum() / image.sum()])


@pytest.mark.parametrize("seed", range(6))
def test_keypoints_follow_the_image_through_rotation_scale_and_flip(tmp_path, seed):
    path = write_dataset(tmp_path)
    augment = SpinAugment(flip=0.5, rotation_probability=1.0, pixel_noise=0.0)
    dataset = SpinDataset(path, tmp_path / "images", size=64, augment=augment, seed=seed)
    for i in range(len(dataset)):
        sample = dataset[i]
        # the dot marks the original left hip; after a flip that joint is called the right hip
        flipped = bool(sample["joints3d"][J["Right Hip"], 0] != 0)
        hip = sample["joints2d"][J["Right Hip"] if flipped else J["Left Hip"]]
        where = (hip[:2].numpy() + 1) * 64 / 2
        assert np.abs(where - dot_centre(sample)).max() <= 1.0


def test_flip_swaps_sides_and_mirrors(tmp_path):
    path = write_dataset(tmp_path, n=1)
    plain = SpinDataset(path, tmp_path / "images", size=64)[0]
    mirrored = SpinDataset(path, tmp_path / "images", size=64,
                           augment=SpinAugment(flip=1.0, rotation_probability=0.0, scale_sigma=0.0, pixel_noise=0.0))[0]
    for a, b in (("Left Hip", "Right Hip"), ("Right Hip", "Left Hip")):
        torch.testing.assert_close(mirrored["joints2d"][J[a], 0], -plain["joints2d"][J[b], 0], atol=1e-5, rtol=0)
        torch.testing.assert_close(mirrored["joints2d"][J[a], 1], plain["joints2d"][J[b], 1], atol=1e-5, rtol=0)
    torch.testing.assert_close(mirrored["joints3d"][J["Right Hip"]], torch.tensor([-0.1, 0.0, 0.0]))
    torch.testing.assert_close(mirrored["images"], plain["images"].flip(-1), atol=1e-5, rtol=0)


def test_bad_dataset_files(tmp_path):
    with pytest.raises(DatasetError, match=r"data.npz: missing part; SPIN datasets have imgname, center, scale, part"):
        SpinDataset(write_dataset(tmp_path, part=None), tmp_path / "images")
    with pytest.raises(DatasetError, match=r"data.npz: keys of unequal lengths: .*scale 3"):
        SpinDataset(write_dataset(tmp_path, scale=np.ones(3)), tmp_path / "images")


def test_missing_images_are_counted_or_skipped(tmp_path):
    path = write_dataset(tmp_path, n=4)
    (tmp_path / "images" / "im1.png").unlink()
    (tmp_path / "images" / "im3.png").unlink()
    expected = r"2 of 4 images are not in .*images \(first: im1.png, im3.png\).*mocap_spin.skip_bad=true skips"
    with pytest.raises(DatasetError, match=expected):
        SpinDataset(path, tmp_path / "images")
    messages = []
    dataset = SpinDataset(path, tmp_path / "images", skip_bad=True, log=messages.append)
    assert len(dataset) == 2 and "skipped" in messages[0]
    (tmp_path / "images" / "im0.png").write_bytes(b"broken")
    with pytest.raises(DatasetError, match=r"data.npz: sample 0: .*im0.png: cannot be decoded"):
        dataset[0]


def _stream(tmp_path, workers, skip_bad=False, log=print):
    from mocap_hmr.data.real_stream import RealImageStream

    dataset = SpinDataset(tmp_path / "data.npz", tmp_path / "images", size=32, skip_bad=skip_bad, log=log)
    return RealImageStream([dataset], 4, torch.device("cpu"), workers=workers, skip_bad=skip_bad, log=log)


@pytest.mark.parametrize("workers", [0, 1])
def test_an_undecodable_image_is_one_line_with_or_without_workers(tmp_path, workers):
    write_dataset(tmp_path, n=4)
    (tmp_path / "images" / "im2.png").write_bytes(b"broken")
    with pytest.raises(DatasetError) as caught:
        _stream(tmp_path, workers).sample(4)
    message = str(caught.value)
    assert "\n" not in message and "worker" not in message
    assert message.startswith(f"{tmp_path / 'data.npz'}: sample 2: {tmp_path / 'images' / 'im2.png'}: cannot be "
                              "decoded as an image")
    assert message.endswith("; mocap_spin.skip_bad=true skips (and counts) unusable images")


@pytest.mark.parametrize("workers", [0, 1])
def test_skip_bad_skips_and_counts_missing_and_undecodable_images(tmp_path, workers):
    write_dataset(tmp_path, n=6)
    (tmp_path / "images" / "im1.png").unlink()
    (tmp_path / "images" / "im2.png").write_bytes(b"broken")
    (tmp_path / "images" / "im4.png").write_bytes(b"")
    messages = []
    stream = _stream(tmp_path, workers, skip_bad=True, log=messages.append)
    assert messages == [f"{tmp_path / 'data.npz'}: 1 of 6 images are not in {tmp_path / 'images'} "
                        "(first: im1.png); skipped"]
    for _ in range(3):  # one epoch of the 5 present samples is one batch; three epochs
        assert stream.sample(4).images.shape == (4, 3, 32, 32)
    skipped = messages[1:]
    assert len(skipped) == 2 and all(m.startswith("mocap_spin.skip_bad: skipped ") for m in skipped)
    assert {"im2.png" in m for m in skipped} == {True, False} and skipped[-1].endswith("(2 unreadable image(s) so far)")
    assert len(stream.skipped) == 2
