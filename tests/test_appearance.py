"""Appearance: texture and background samplers, the UV part map, augmentations, and the
bad image folders of BAD_INPUTS 15."""

import colorsys

import pytest
import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.imageio import write_png
from renderers.appearance import SUIT_BACK, body_texture_sampler, suit_textures, uv_face_map, uv_part_map
from renderers.augment import PhotometricAugment
from samplers.backgrounds import BackgroundSampler
from samplers.images import ImageFolderError, load_image_folder
from samplers.textures import FEET, TextureSampler, hsv_to_rgb


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_part_map_labels_texels_with_their_joint(tiny_body_dir):
    body = BodyModel(tiny_body_dir)
    parts = uv_part_map(body, 64)
    assert parts.shape == (64, 64) and set(parts.unique().tolist()) - {-1} <= set(range(24))
    assert len(set(parts.unique().tolist()) - {-1}) >= 20  # nearly every part has texels


def test_hsv_to_rgb_agrees_with_colorsys():
    hsv = torch.rand(200, 3, generator=gen(4), dtype=torch.float64)
    expected = torch.tensor([colorsys.hsv_to_rgb(*row) for row in hsv.tolist()], dtype=torch.float64)
    torch.testing.assert_close(hsv_to_rgb(hsv[:, 0], hsv[:, 1], hsv[:, 2]), expected)
    torch.testing.assert_close(hsv_to_rgb(hsv[:, 0], 0.5, 0.25),
                               torch.tensor([colorsys.hsv_to_rgb(h, 0.5, 0.25) for h in hsv[:, 0].tolist()],
                                            dtype=torch.float64))


def test_the_suit_colours_every_part_its_own_way_and_darkens_the_back(tiny_body_dir):
    body = BodyModel(tiny_body_dir)
    sampler = suit_textures(body, size=64)
    textures = sampler.sample(3, gen())
    assert textures.shape == (3, 3, 64, 64) and torch.equal(textures[0], textures[2])  # one look for every body
    texture, parts, face = textures[0], uv_part_map(body, 64), uv_face_map(body, 64)
    assert torch.equal(parts >= 0, face >= 0)
    v, f = body.smpl.v_template.double(), body.faces.long()
    front_z = torch.linalg.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]], dim=-1)[:, 2] > 0  # (F,)
    front = torch.where(face >= 0, front_z[face.clamp(min=0)], False)
    colours = {}
    for part in parts.unique().tolist():
        for facing, scale in ((True, 1.0), (False, SUIT_BACK)):
            texels = texture[:, (parts == part) & (front == facing)]  # (3, K)
            if texels.shape[1]:
                assert (texels.amax(1) - texels.amin(1)).max() < 1.5 / 255  # one colour per part and side
                colours[part, facing] = texels[:, 0] / scale
    for part in {p for p, _ in colours} - {-1}:  # the back is the front's colour, darker
        if (part, True) in colours and (part, False) in colours:
            torch.testing.assert_close(colours[part, False], colours[part, True], atol=3 / 255, rtol=0)
    front_colours = torch.stack([c for (p, facing), c in colours.items() if facing and p >= 0])
    assert torch.cdist(front_colours, front_colours).add(torch.eye(len(front_colours))).min() > 0.02  # all differ


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
