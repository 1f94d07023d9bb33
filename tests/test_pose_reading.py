"""How much an image model reads poses (evaluation.pose_reading), against closed forms: a
model that predicts its prior scores its mean pose and has no spread; the training poses
read themselves back exactly; headings are angles about the camera's vertical."""

import math

import pytest
import torch

from mocap_hmr.evaluation.pose_reading import (
    angle_between,
    heading,
    kind_medoids,
    prediction_spread,
    read_poses,
)
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.geometry.cameras import FLIP
from mocap_hmr.models.hmr import HMR


def _turned(degrees: torch.Tensor) -> torch.Tensor:
    """(N, 3, 3) the upright body facing the camera (FLIP), turned about the camera's vertical."""
    axis = torch.zeros(len(degrees), 3)
    axis[:, 1] = torch.deg2rad(degrees)
    return axis_angle_to_matrix(axis) @ FLIP


def test_heading_is_the_turn_about_the_vertical_and_errors_wrap():
    turns = torch.tensor([0.0, 30.0, 90.0, 179.0])
    assert torch.allclose(heading(_turned(turns)).abs(), turns, atol=1e-4)
    assert torch.allclose(angle_between(torch.tensor([170.0, -90.0]), torch.tensor([-170.0, 90.0])),
                          torch.tensor([20.0, 180.0]))


def test_spread_is_zero_for_one_pose_and_one_for_the_truth():
    truth = axis_angle_to_matrix(torch.randn(50, 24, 3, generator=torch.Generator().manual_seed(0)) * 0.3)
    assert prediction_spread(truth, truth) == pytest.approx(1.0)
    assert prediction_spread(truth[:1].expand(50, -1, -1, -1), truth) == 0.0
    assert prediction_spread(truth * 0.5, truth) == pytest.approx(0.5)


def test_k_means_medoids_are_training_points_one_per_cluster():
    generator = torch.Generator().manual_seed(1)
    centres = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    points = (centres[:, None] + 0.1 * torch.randn(3, 20, 2, generator=generator)).reshape(-1, 2)
    medoids = kind_medoids(points, 3)
    assert sorted(int(m) // 20 for m in medoids) == [0, 1, 2]  # one medoid in each blob


def test_a_model_of_its_prior_scores_its_mean_pose_and_the_training_poses_read_themselves(tiny_body):
    torch.manual_seed(0)
    model = HMR("tiny").predict_prior()
    pose = torch.randn(12, 24, 3, generator=torch.Generator().manual_seed(2)) * 0.3
    pose[:, 0] = 0.0
    betas = torch.zeros(12, 10)
    images = torch.randn(12, 3, 32, 32)
    reading = read_poses(model, tiny_body, pose, betas, images, pose, betas)
    assert reading.model == pytest.approx(reading.mean_pose, abs=1e-3) and reading.mean_pose > 10
    assert reading.spread == 0.0
    assert reading.nearest_training_pose == pytest.approx(0.0, abs=1e-3)  # each test pose is a training pose
    assert reading.kinds[5] > reading.nearest_training_pose
    assert reading.heading_all == pytest.approx(0.0, abs=1e-3)  # root 0 and the prior's root both face away
    assert math.isnan(reading.heading_side) and reading.samples == 12
    assert "its prior (the mean pose)" in reading.markdown()
