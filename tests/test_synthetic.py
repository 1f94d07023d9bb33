"""SyntheticRenderer on the tiny body: shapes, joints inside the silhouette, reprojection,
camera-frame SMPL parameters, SPIN's weak-perspective camera, upper-body cuts, seeds."""

import pytest
import torch

from mocap_hmr.body import SPIN_JOINT_NAMES, BodyModel
from mocap_hmr.data.default_corpus import default_motion_index
from mocap_hmr.data.motion_index import load_index
from mocap_hmr.geometry.cameras import project
from renderers.appearance import body_texture_sampler
from renderers.synthetic import SyntheticRenderer
from samplers import CropSampler, PoseSampler
from samplers.backgrounds import BackgroundSampler
from samplers.crops import TO_HIPS, TO_KNEES

SIZE = 64


@pytest.fixture(scope="module")
def parts(tiny_body_dir, tmp_path_factory):
    body = BodyModel(tiny_body_dir)
    index = load_index(default_motion_index(minutes=0.3, root=tmp_path_factory.mktemp("m") / "motion",
                                            log=lambda m: None))
    return body, PoseSampler(index), body_texture_sampler(body, size=64), BackgroundSampler(SIZE)


def make(parts, **kw):
    body, poses, textures, backgrounds = parts
    return SyntheticRenderer(body, poses, textures, backgrounds, image_size=SIZE, backend="torch", **kw)


def test_batch_fields(parts):
    batch = make(parts).sample(8, torch.Generator().manual_seed(0))
    assert batch.images.shape == (8, 3, SIZE, SIZE) and torch.isfinite(batch.images).all()
    assert batch.masks.shape == (8, 1, SIZE, SIZE) and set(batch.masks.unique().tolist()) <= {0.0, 1.0}
    assert (batch.masks.mean((1, 2, 3)) > 0.03).all()  # every crop shows a body
    assert batch.joints2d.shape == (8, 49, 3) and batch.joints3d.shape == (8, 49, 3)
    assert batch.pose.shape == (8, 24, 3) and batch.betas.shape == (8, 10) and batch.camera.shape == (8, 3)
    assert (batch.joints3d[..., 2] > 0).all()  # in front of the camera
    assert batch.joints2d[..., 2].mean() > 0.5


def test_visible_joints_fall_inside_the_silhouette(parts):
    batch = make(parts).sample(16, torch.Generator().manual_seed(1))
    grown = torch.nn.functional.max_pool2d(batch.masks, 3, stride=1, padding=1)[:, 0]  # one pixel of slack
    pixels = ((batch.joints2d[..., :2] + 1) * SIZE / 2).floor().long().clamp(0, SIZE - 1)
    on_body = grown[torch.arange(16)[:, None], pixels[..., 1], pixels[..., 0]]
    visible = batch.joints2d[..., 2] > 0
    assert visible.sum() > 100 and (on_body[visible] == 1).all()


def test_joints_reproject_and_smpl_parameters_are_in_the_camera_frame(parts):
    body = parts[0]
    batch = make(parts).sample(8, torch.Generator().manual_seed(2))
    pixels = project(batch.joints3d, batch.focal, batch.principal)
    torch.testing.assert_close(2 * pixels / SIZE - 1, batch.joints2d[..., :2])
    again = body(batch.pose, batch.betas).spin_joints + batch.cam_t[:, None]
    torch.testing.assert_close(again, batch.joints3d, atol=1e-4, rtol=0)
    # SPIN's weak perspective: s * (X + t) for the pelvis, which sits near depth t_z
    pelvis = body(batch.pose, batch.betas).joints[:, 0]
    s, txy = batch.camera[:, :1], batch.camera[:, 1:]
    weak = s * (pelvis[:, :2] + txy)
    persp = 2 * project((pelvis + batch.cam_t)[:, None], batch.focal, batch.principal)[:, 0] / SIZE - 1
    assert (weak - persp).abs().max() < 0.05


def test_upper_body_crops_hide_the_joints_below_the_cut(parts):
    batch = make(parts, crops=CropSampler(upper_body=1.0)).sample(32, torch.Generator().manual_seed(3))
    visible = batch.joints2d[..., 2] > 0
    knees = [i for i, n in enumerate(SPIN_JOINT_NAMES) if "Knee" in n]
    ankles = [i for i, n in enumerate(SPIN_JOINT_NAMES) if "Ankle" in n or "Heel" in n or "Toe" in n]
    to_hips, to_knees = batch.crop_kind == TO_HIPS, batch.crop_kind == TO_KNEES
    assert to_hips.any() and to_knees.any()
    assert not visible[to_hips][:, knees + ankles].any()
    assert not visible[to_knees][:, ankles].any()
    assert visible[to_knees][:, knees].any()


def test_same_seed_same_batch(parts):
    a = make(parts).sample(4, torch.Generator().manual_seed(5))
    b = make(parts).sample(4, torch.Generator().manual_seed(5))
    assert torch.equal(a.images, b.images) and torch.equal(a.joints2d, b.joints2d)


def test_render_preview_picture(parts, tmp_path):
    import numpy as np

    from mocap_hmr.imageio import read_image
    from mocap_hmr.vis.grids import save_render_preview

    image = read_image(save_render_preview(make(parts), tmp_path / "preview.png", views=4, crops=2))
    height, width = image.shape[:2]
    assert 2 * width / 3 < height < 2 * width  # 2 rows of 2 views, a row of 2 crops, labels on the left
    bottom = image[int(height * 0.7):].reshape(-1, 3).astype(int)
    assert (np.abs(bottom - [40, 220, 60]).max(-1) < 30).sum() > 10  # joints drawn on the training crops
