"""Losses against closed forms: SPIN's camera term, the crop-camera term, feature alignment."""

import math

import pytest
import torch

from mocap_hmr.losses import (
    camera_loss,
    crop_camera_loss,
    feature_contrastive_loss,
    feature_cosine_loss,
    feature_l2_loss,
)


def test_camera_term_is_mean_of_squares():
    camera = torch.tensor([[0.1, 0.0, 0.0], [0.3, 0.0, 0.0]])
    expected = (math.exp(-2.0) + math.exp(-6.0)) / 2  # mean(exp(-10 s)^2)
    assert camera_loss(camera).item() == pytest.approx(expected, rel=1e-6)


def test_feature_alignment_closed_forms():
    gen = torch.Generator().manual_seed(0)
    f = torch.randn(8, 16, generator=gen)
    assert feature_l2_loss(f, f).item() == 0 and feature_cosine_loss(f, f).item() == pytest.approx(0, abs=1e-6)
    assert feature_l2_loss(f, f + 1).item() == pytest.approx(16.0)
    assert feature_cosine_loss(f, -f).item() == pytest.approx(2.0)
    eye = torch.eye(8)  # orthogonal pairs: a confident, correct match for every sample
    assert feature_contrastive_loss(eye, eye, temperature=0.01).item() < 1e-6
    shuffled = eye[torch.randperm(8, generator=gen)]
    assert feature_contrastive_loss(eye, shuffled, temperature=0.01).item() > 10
    uniform = feature_contrastive_loss(torch.ones(8, 4), torch.ones(8, 4))
    assert uniform.item() == pytest.approx(math.log(8), rel=1e-5)  # no information: chance level


def test_feature_alignment_has_gradients():
    real = torch.randn(4, 6, requires_grad=True)
    rendered = torch.randn(4, 6)
    (feature_l2_loss(real, rendered) + feature_cosine_loss(real, rendered)
     + feature_contrastive_loss(real, rendered)).backward()
    assert real.grad.abs().sum() > 0


def test_acceleration_loss_against_a_closed_form():
    from mocap_hmr.losses import acceleration_loss

    t = torch.arange(6, dtype=torch.float64)[None, :, None, None]
    uniform = t * torch.tensor([0.1, -0.2, 0.3], dtype=torch.float64)  # constant velocity: no acceleration
    falling = uniform + 0.5 * 0.01 * t**2 * torch.tensor([0.0, -1.0, 0.0], dtype=torch.float64)  # 0.01 per frame^2
    assert acceleration_loss(uniform, uniform + 3.0) < 1e-28  # offsets and velocities do not count
    torch.testing.assert_close(acceleration_loss(uniform, falling), torch.tensor(0.01**2, dtype=torch.float64))


def test_crop_camera_loss_compares_only_the_cameras_the_crops_know():
    predicted = torch.tensor([[1.0, 0.1, -0.1], [0.5, 0.0, 0.0], [2.0, 1.0, 1.0]])
    crops = torch.tensor([[0.9, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 0.0]])  # the second: a real image, unknown
    expected = ((predicted[[0, 2]] - crops[[0, 2]]) ** 2).mean()
    torch.testing.assert_close(crop_camera_loss(predicted, crops), expected)
    assert crop_camera_loss(predicted, torch.zeros(3, 3)) == 0
