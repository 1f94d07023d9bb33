"""The plain filters PoseBERT is compared with: each against an independent computation
(a symmetric window keeps a uniform rotation in place, numpy's polynomial fit, a scalar
OneEuro written out), causality online, gap filling and errors."""

import math

import numpy as np
import pytest
import torch

from mocap_hmr.errors import MocapHMRError
from mocap_hmr.filters import DEFAULTS, FILTERS, filter_rotations, last_observed, nearest_rotation
from mocap_hmr.geometry import axis_angle_to_matrix


def uniform_rotation(n, speed=0.05):
    """(n, 24, 3, 3): every joint turning at a constant speed about its own fixed axis."""
    axes = torch.nn.functional.normalize(torch.randn(24, 3, generator=torch.Generator().manual_seed(0)), dim=-1)
    angles = speed * torch.arange(n, dtype=torch.float64)[:, None, None]
    return axis_angle_to_matrix(angles * axes).float()


def noisy(n, seed=0, std=0.1):
    gen = torch.Generator().manual_seed(seed)
    axes = 0.3 * torch.sin(torch.linspace(0, 4, n))[:, None, None] * torch.randn(1, 24, 3, generator=gen)
    return axis_angle_to_matrix(axes + std * torch.randn(n, 24, 3, generator=gen))


@pytest.mark.parametrize("method", ["average", "savgol"])
def test_centred_windows_keep_a_uniform_rotation_in_place(method):
    rotmat = uniform_rotation(40)
    out = filter_rotations(rotmat, method)
    radius = DEFAULTS[method]["window"] // 2
    # symmetric weights about the centre frame: the projected mean is the centre rotation
    torch.testing.assert_close(out[radius:-radius], rotmat[radius:-radius], atol=2e-5, rtol=0)


def test_online_savgol_is_numpys_polynomial_fit_at_the_window_end():
    rotmat = noisy(30).double()
    out = filter_rotations(rotmat, "savgol", mode="online", window=7, order=2).double()
    entries = rotmat.reshape(30, -1).numpy()
    for t in (6, 17, 29):
        fit = np.polynomial.polynomial.polyfit(np.arange(7), entries[t - 6:t + 1], 2)
        at_end = np.polynomial.polynomial.polyval(6, fit).T
        expected = nearest_rotation(torch.from_numpy(at_end).reshape(24, 3, 3))
        torch.testing.assert_close(out[t], expected, atol=1e-5, rtol=0)


def test_one_euro_without_speed_term_is_exponential_smoothing():
    rotmat = noisy(25).double()
    fps, cutoff = 30.0, 2.0
    out = filter_rotations(rotmat, "one-euro", fps=fps, min_cutoff=cutoff, beta=0.0)
    alpha = 1 / (1 + fps / (2 * math.pi * cutoff))
    state = rotmat[0].numpy().copy()
    for t in range(1, 25):
        state = state + alpha * (rotmat[t].numpy() - state)
    expected = nearest_rotation(torch.from_numpy(state))
    torch.testing.assert_close(out[-1].double(), expected, atol=1e-5, rtol=0)


def test_one_euro_follows_fast_motion_more_closely_with_a_speed_term():
    rotmat = uniform_rotation(60, speed=0.2)
    lag = [float((filter_rotations(rotmat, "one-euro", beta=beta) - rotmat).norm(dim=(-1, -2)).mean())
           for beta in (0.0, 1.0)]
    assert lag[1] < 0.5 * lag[0]


@pytest.mark.parametrize("method", FILTERS)
def test_online_output_depends_on_the_past_only(method):
    rotmat = noisy(40)
    changed = rotmat.clone()
    changed[25:] = noisy(15, seed=3)
    a = filter_rotations(rotmat, method, mode="online")
    b = filter_rotations(changed, method, mode="online")
    torch.testing.assert_close(a[:25], b[:25])
    assert not torch.allclose(a[25:], b[25:])


@pytest.mark.parametrize("method", FILTERS)
def test_unobserved_frames_are_filled_and_outputs_are_rotations(method):
    rotmat = noisy(30)
    rotmat[[0, 10, 11]] = float("nan")
    observed = torch.ones(30, dtype=torch.bool)
    observed[20] = False
    for mode in ("offline", "online"):
        out = filter_rotations(rotmat, method, observed=observed, mode=mode)
        assert torch.isfinite(out).all()
        torch.testing.assert_close(out @ out.transpose(-1, -2), torch.eye(3).expand_as(out), atol=1e-5, rtol=0)
        torch.testing.assert_close(torch.linalg.det(out), torch.ones(30, 24), atol=1e-5, rtol=0)


def test_offline_filling_interpolates_between_neighbours():
    rotmat = uniform_rotation(9, speed=0.1)
    gap = rotmat.clone()
    gap[3:6] = float("nan")
    out = filter_rotations(gap, "average", window=1)
    torch.testing.assert_close(out, rotmat, atol=2e-3, rtol=0)  # chord vs arc of a 0.4 rad interpolation
    torch.testing.assert_close(out[4], rotmat[4], atol=1e-5, rtol=0)  # the midpoint is exact


def test_nearest_rotation():
    rotations = axis_angle_to_matrix(torch.randn(50, 3, dtype=torch.float64))
    torch.testing.assert_close(nearest_rotation(rotations), rotations)
    reflection = torch.diag(torch.tensor([1.0, 1.0, -1.0], dtype=torch.float64))
    assert torch.linalg.det(nearest_rotation(reflection)) == pytest.approx(1.0)


def test_bad_settings_and_inputs():
    rotmat = noisy(10)
    with pytest.raises(MocapHMRError, match="filter 'median' is not one of average, savgol, one-euro"):
        filter_rotations(rotmat, "median")
    with pytest.raises(MocapHMRError, match="filter 'average' has no setting order; it takes window"):
        filter_rotations(rotmat, "average", order=2)
    with pytest.raises(MocapHMRError, match="savgol: window=4, order=2; the window is odd"):
        filter_rotations(rotmat, "savgol", window=4)
    with pytest.raises(MocapHMRError, match="no observed frame among the 10"):
        filter_rotations(torch.full((10, 24, 3, 3), float("nan")), "one-euro")
    with pytest.raises(MocapHMRError, match=r"rotations have shape \(10, 72\)"):
        filter_rotations(torch.zeros(10, 72), "average")
    short = filter_rotations(noisy(4), "savgol")  # shorter than the window: the longest odd window it holds
    assert short.shape == (4, 24, 3, 3) and torch.isfinite(short).all()


def test_last_observed_holds_the_previous_observed_frame():
    observed = torch.tensor([[False, True, False, False, True], [True, True, False, True, False],
                             [False, False, False, False, False]])
    expected = torch.tensor([[1, 1, 1, 1, 4], [0, 1, 1, 3, 3], [0, 0, 0, 0, 0]])
    assert torch.equal(last_observed(observed), expected)
