"""``refine_latest``: a live stream's newest frame for several people in one forward pass equals
what ``refine(..., mode="online")`` gives the last frame of each person's whole sequence."""

import pytest
import torch

from mocap_hmr.errors import InputShapeError
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.refinement import refine, refine_latest


@pytest.fixture(scope="module")
def model(jittered_posebert):
    return jittered_posebert


def test_equals_the_online_reading_of_the_last_frame(model):
    gen = torch.Generator().manual_seed(1)
    for k in (20, 5):  # longer than the window of 8, and shorter (padded at the start)
        seqs = axis_angle_to_matrix(0.3 * torch.randn(3, k, 24, 3, generator=gen))
        seqs[1, -2] = float("nan")  # an unobserved frame
        seqs[2] = float("nan")  # nobody seen: the mean pose
        latest = refine_latest(seqs, model)
        for p in range(3):
            torch.testing.assert_close(latest[p], refine(seqs[p], model, mode="online")[-1], atol=1e-5, rtol=0)


def test_bad_shape(model):
    with pytest.raises(InputShapeError, match=r"recent has shape \(4, 24, 3, 3\); expected \(P, K, 24, 3, 3\)"):
        refine_latest(torch.zeros(4, 24, 3, 3), model)
