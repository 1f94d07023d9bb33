"""Appearance: texture and background samplers, the UV part map, augmentations, and the
bad image folders of BAD_INPUTS 15."""

import pytest
import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.imageio import write_png
from renderers.appearance import body_texture_sampler, uv_part_map
from renderers.augment import PhotometricAugment
from samplers.backgrounds import BackgroundSampler
from samplers.images import ImageFolderError, load_image_folder
from samplers.textures import FEET, TextureSampler


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_part_map_labels_texels_with_their_joint(tiny_body_dir):
    body = BodyModel(tiny_body_dir)
    parts = uv_part_map(body, 64)
    assert parts.shape == (64, 64) and set(parts.unique().tolist()) - {-1} <= set(range(24))
    assert len(set(parts.unique().tolist()) - {-1}) >= 20  # nearly every part has texels


def test_clothes_follow_the_part_map(tiny_body_dir):
    body = BodyModel(tiny_body_dir)
    sampler = body_texture_sampler(body, size=64)
    textures = sampler.sample(64, gen())
    skin = sampler.skins[0].float() / 255
    head = sampler.parts == 15
    changed = (textures - skin).abs().amax(1) > 1e-6  # (n, S, S)
    assert not changed[:, head].any()  # no garment covers the head
    feet = torch.isin(sampler.parts, torch.tensor(FEET))
    assert changed[:, feet].any(1).float().mean() > 0.6  # most get shoes
    assert torch.equal(textures, sampler.sample(64, gen()))


def test_textures_from_a_folder_are_used_as_they_are(tmp_path):
    for i in range(3):
        write_png(tmp_path / f"t{i}.png", torch.full((8, 12, 3), 40 * i, dtype=torch.uint8).numpy())
    sampler = TextureSampler(load_image_folder(tmp_path, 16, "texture"))
    out = sampler.sample(32, gen())
    assert out.shape == (32, 3, 16, 16)
    assert set((out[:, 0, 0, 0] * 255).round().tolist()) <= {0.0, 40.0, 80.0}


def test_backgrounds_procedural_and_photos(tmp_path):
    procedural = BackgroundSampler(32).sample(8, gen())
    assert procedural.shape == (8, 3, 32, 32) and 0 <= procedural.min() and procedural.max() <= 1
    assert procedural.std(dim=(1, 2, 3)).min() > 0.01  # not flat
    photo = torch.zeros(40, 40, 3, dtype=torch.uint8)
    photo[:, 20:] = 255
    write_png(tmp_path / "sub" / "photo.png", photo.numpy())
    sampler = BackgroundSampler(32, folder=tmp_path)
    crops = sampler.sample(16, gen())
    assert crops.shape == (16, 3, 32, 32) and torch.equal(crops, sampler.sample(16, gen()))


@pytest.mark.parametrize("content", ["empty", "undecodable", "missing"])
def test_bad_image_folders_are_named(tmp_path, content):
    folder = tmp_path / "bg"
    if content != "missing":
        folder.mkdir()
    if content == "undecodable":
        (folder / "a.jpg").write_bytes(b"not a jpeg")
    with pytest.raises(ImageFolderError, match=r"background folder .*bg (holds no decodable image|does not exist)"):
        BackgroundSampler(32, folder=folder)
    if content == "undecodable":
        with pytest.raises(ImageFolderError, match=r"1 PNG/JPEG files, 1 unreadable"):
            load_image_folder(folder, 8, "background")


def test_augment_is_seeded_and_neutral_when_off():
    images = torch.rand(4, 3, 24, 24, generator=gen())
    aug = PhotometricAugment()
    assert torch.equal(aug(images, gen(1)), aug(images, gen(1)))
    assert not torch.equal(aug(images, gen(1)), images)
    off = PhotometricAugment(brightness=0, contrast=0, saturation=0, channel_gain=(1, 1), blur=0, noise=0)
    torch.testing.assert_close(off(images, gen(1)), images)
