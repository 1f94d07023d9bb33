"""renderers.plain: solid, grey-level and noise backgrounds, the untextured grey body, inside the renderer."""

import pytest
import torch
from omegaconf import OmegaConf

from mocap_hmr.body import BodyModel
from mocap_hmr.data.default_corpus import default_motion_index
from mocap_hmr.data.motion_index import load_index
from mocap_hmr.imageio import denormalize_images
from renderers.build import build_renderer, renderer_from_config
from renderers.plain import GREY, GreyBackgrounds, NoiseBackgrounds, SolidBackgrounds, grey_textures
from samplers.cameras import CameraSampler
from samplers.crops import CropSampler


def test_solid_backgrounds_are_one_colour_and_draw_nothing():
    g = torch.Generator().manual_seed(0)
    state = g.get_state()
    out = SolidBackgrounds(8, (0.0, 0.5, 1.0)).sample(3, g)
    assert out.shape == (3, 3, 8, 8)
    assert torch.equal(out[:, :, 2, 5], torch.tensor([[0.0, 0.5, 1.0]] * 3))
    assert torch.equal(g.get_state(), state)
    with pytest.raises(ValueError, match="three values in"):
        SolidBackgrounds(8, (0.0, 2.0, 0.0))


def test_grey_backgrounds_are_one_seeded_grey_level_each():
    a = GreyBackgrounds(8, low=0.2, high=0.8).sample(256, torch.Generator().manual_seed(3))
    b = GreyBackgrounds(8, low=0.2, high=0.8).sample(256, torch.Generator().manual_seed(3))
    assert a.shape == (256, 3, 8, 8) and torch.equal(a, b)
    level = a[:, 0, 0, 0]
    assert torch.equal(a, level[:, None, None, None].expand_as(a))  # one grey per background
    assert 0.2 <= level.min() and level.max() <= 0.8 and level.max() - level.min() > 0.5  # spans the range
    with pytest.raises(ValueError, match="low <= high"):
        GreyBackgrounds(8, low=0.9, high=0.1)


def test_noise_backgrounds_are_seeded_uniform_pixels():
    a = NoiseBackgrounds(16).sample(4, torch.Generator().manual_seed(1))
    b = NoiseBackgrounds(16).sample(4, torch.Generator().manual_seed(1))
    assert a.shape == (4, 3, 16, 16) and torch.equal(a, b)
    assert 0.0 <= a.min() and a.max() <= 1.0 and abs(a.mean().item() - 0.5) < 0.05


def test_grey_body_over_black(tiny_body_dir, tmp_path):
    body = BodyModel(tiny_body_dir)
    index = load_index(default_motion_index(minutes=0.2, root=tmp_path / "motion", log=lambda m: None))
    renderer = build_renderer(body, index, image_size=32, backend="torch", augment=False, texture_size=32,
                              textures=grey_textures(), backgrounds=SolidBackgrounds)
    batch = renderer.sample(4, torch.Generator().manual_seed(0))
    images = denormalize_images(batch.images)
    outside = batch.masks.expand_as(images) == 0
    assert images[outside].abs().max() < 1e-5  # black background
    inside = images.permute(0, 2, 3, 1)[batch.masks[:, 0] == 1]  # (P, 3) body pixels
    assert len(inside) > 50
    assert (inside.max(1).values - inside.min(1).values).max() < 1e-4  # grey: equal channels
    assert inside[:, 0].max() <= GREY * 1.4 + 1e-4 and inside[:, 0].std() > 0.01  # shaded, not flat
    with pytest.raises(ValueError, match="grey must be in"):
        grey_textures(1.5)


def test_the_renderer_is_built_from_its_parts(tiny_body_dir, tmp_path):
    body = BodyModel(tiny_body_dir)
    index = load_index(default_motion_index(minutes=0.2, root=tmp_path / "motion", log=lambda m: None))
    cameras, crops = CameraSampler(yaw=30.0), CropSampler(upper_body=0.0)
    render = OmegaConf.create({"image_size": 32, "backend": "torch", "textures": None, "backgrounds": None,
                               "texture_size": 32, "augment": True})
    renderer = renderer_from_config(render, body, index, "cpu", cameras=cameras, crops=crops,
                                    backgrounds=NoiseBackgrounds, augment=False)
    assert renderer.cameras is cameras and renderer.crops is crops and renderer.augment is None
    assert renderer.size == 32 and isinstance(renderer.backgrounds, NoiseBackgrounds)
    assert renderer.backgrounds.size == 32 and renderer.textures.size == 32
