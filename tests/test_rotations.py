"""Rotation conversions against float64 NumPy references, kornia, and gradient checks."""

import math

import kornia.geometry.conversions as kc
import numpy as np
import pytest
import torch

from mocap_hmr.geometry import (
    axis_angle_to_matrix,
    axis_angle_to_rot6d,
    matrix_to_axis_angle,
    matrix_to_rot6d,
    rot6d_to_axis_angle,
    rot6d_to_matrix,
)


def rodrigues_reference(v: np.ndarray) -> np.ndarray:
    """Float64 Rodrigues, one vector at a time; exact series below 1e-4 rad."""
    theta = np.linalg.norm(v)
    k = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]], dtype=np.float64)
    if theta < 1e-4:
        a = 1 - theta**2 / 6 + theta**4 / 120
        b = 0.5 - theta**2 / 24 + theta**4 / 720
    else:
        a = math.sin(theta) / theta
        b = (1 - math.cos(theta)) / theta**2
    return np.eye(3) + a * k + b * k @ k


def random_axis_angle(gen, n, low, high, dtype=torch.float64):
    axis = torch.nn.functional.normalize(torch.randn(n, 3, generator=gen, dtype=dtype), dim=-1)
    angle = low + (high - low) * torch.rand(n, 1, generator=gen, dtype=dtype)
    return axis * angle


@pytest.mark.parametrize("low,high", [(0.0, math.pi), (1e-9, 1e-3), (math.pi - 1e-3, math.pi)])
def test_axis_angle_to_matrix_matches_float64_reference(low, high):
    gen = torch.Generator().manual_seed(0)
    v = random_axis_angle(gen, 200, low, high)
    ours = axis_angle_to_matrix(v).numpy()
    ref = np.stack([rodrigues_reference(x) for x in v.numpy()])
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    # float32 stays within float32 precision of the same reference
    ours32 = axis_angle_to_matrix(v.float()).double().numpy()
    np.testing.assert_allclose(ours32, ref, atol=2e-6)


def test_zero_rotation_is_identity_with_finite_gradient():
    v = torch.zeros(4, 3, dtype=torch.float64, requires_grad=True)
    r = axis_angle_to_matrix(v)
    assert torch.equal(r.detach(), torch.eye(3, dtype=torch.float64).expand(4, 3, 3))
    r.sum().backward()
    assert torch.isfinite(v.grad).all()
    aa = matrix_to_axis_angle(r)
    assert torch.equal(aa.detach(), torch.zeros(4, 3, dtype=torch.float64))


@pytest.mark.parametrize(
    "low,high", [(0.0, math.pi - 1e-2), (1e-9, 1e-4), (math.pi - 1e-4, math.pi - 1e-9)]
)
def test_matrix_to_axis_angle_inverts_rodrigues(low, high):
    gen = torch.Generator().manual_seed(1)
    v = random_axis_angle(gen, 300, low, high)
    ref = torch.from_numpy(np.stack([rodrigues_reference(x) for x in v.numpy()]))
    back = matrix_to_axis_angle(ref)
    # Near pi the vector and its antipode describe almost the same rotation; compare the
    # rotation, and the vector itself where the angle is away from pi.
    np.testing.assert_allclose(axis_angle_to_matrix(back).numpy(), ref.numpy(), atol=1e-9)
    if high < math.pi - 1e-3:
        np.testing.assert_allclose(back.numpy(), v.numpy(), atol=1e-9)


def test_angle_exactly_pi():
    for axis in ([1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0], [1.0, 1.0, 0], [1.0, -2.0, 3.0]):
        a = torch.tensor(axis, dtype=torch.float64)
        v = a / a.norm() * math.pi
        r = axis_angle_to_matrix(v)
        back = matrix_to_axis_angle(r)
        assert back.norm().item() == pytest.approx(math.pi, abs=1e-9)
        # same axis up to sign
        assert abs(torch.dot(back / back.norm(), v / v.norm()).item()) == pytest.approx(1, abs=1e-9)
        np.testing.assert_allclose(axis_angle_to_matrix(back).numpy(), r.numpy(), atol=1e-9)


def test_agrees_with_kornia():
    gen = torch.Generator().manual_seed(2)
    v = random_axis_angle(gen, 100, 0.01, math.pi - 0.01)
    np.testing.assert_allclose(
        axis_angle_to_matrix(v).numpy(), kc.axis_angle_to_rotation_matrix(v).numpy(), atol=1e-10
    )
    r = axis_angle_to_matrix(v)
    np.testing.assert_allclose(
        matrix_to_axis_angle(r).numpy(), kc.rotation_matrix_to_axis_angle(r).numpy(), atol=1e-6
    )


def test_any_leading_shape():
    gen = torch.Generator().manual_seed(3)
    v = random_axis_angle(gen, 2 * 3 * 5, 0, math.pi).reshape(2, 3, 5, 3)
    r = axis_angle_to_matrix(v)
    assert r.shape == (2, 3, 5, 3, 3)
    assert matrix_to_axis_angle(r).shape == (2, 3, 5, 3)
    assert matrix_to_rot6d(r).shape == (2, 3, 5, 6)
    assert rot6d_to_matrix(matrix_to_rot6d(r)).shape == (2, 3, 5, 3, 3)
    np.testing.assert_allclose(r[1, 2, 3].numpy(), axis_angle_to_matrix(v[1, 2, 3]).numpy())


def test_rot6d_layout_is_spin_first_two_columns():
    r = torch.arange(9, dtype=torch.float64).reshape(3, 3)
    assert matrix_to_rot6d(r).tolist() == [0, 1, 3, 4, 6, 7]


def gram_schmidt_reference(x: np.ndarray) -> np.ndarray:
    a1, a2 = x.reshape(3, 2)[:, 0], x.reshape(3, 2)[:, 1]
    b1 = a1 / np.linalg.norm(a1)
    u2 = a2 - b1.dot(a2) * b1
    b2 = u2 / np.linalg.norm(u2)
    return np.stack([b1, b2, np.cross(b1, b2)], axis=1)


def test_rot6d_to_matrix_gram_schmidt_reference():
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(100, 6, generator=gen, dtype=torch.float64)
    ours = rot6d_to_matrix(x).numpy()
    ref = np.stack([gram_schmidt_reference(row) for row in x.numpy()])
    np.testing.assert_allclose(ours, ref, atol=1e-12)
    assert np.allclose(np.linalg.det(ours), 1.0)
    v = random_axis_angle(gen, 100, 0, math.pi)
    np.testing.assert_allclose(
        rot6d_to_matrix(axis_angle_to_rot6d(v)).numpy(), axis_angle_to_matrix(v).numpy(), atol=1e-12
    )
    back = rot6d_to_axis_angle(axis_angle_to_rot6d(v))
    np.testing.assert_allclose(
        axis_angle_to_matrix(back).numpy(), axis_angle_to_matrix(v).numpy(), atol=1e-9
    )


@pytest.mark.parametrize("angle", [1e-5, 1.0, math.pi - 1e-3])
def test_gradients(angle):
    gen = torch.Generator().manual_seed(5)
    v = random_axis_angle(gen, 3, angle, angle).requires_grad_(True)
    assert torch.autograd.gradcheck(axis_angle_to_matrix, (v,))
    r = axis_angle_to_matrix(v.detach()).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda m: axis_angle_to_matrix(matrix_to_axis_angle(m)), (r,))
    x = torch.randn(3, 6, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(rot6d_to_matrix, (x,))
