"""Camera maths against closed forms: Tait-Bryan composition and its documented axes, the
placement in front of the camera, the pinhole and SPIN's weak-perspective projections."""

import math

import numpy as np
import torch

from mocap_hmr.geometry.cameras import FLIP, place_in_front, project, project_spin, tait_bryan, weak_perspective


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _rotation(axis, angle):
    c, s = math.cos(angle), math.sin(angle)
    return {"x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]), "y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
            "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[axis]


def test_tait_bryan_composition_as_documented():
    yaw, pitch, roll = (torch.rand(3, 50, generator=gen()) * 2 - 1) * torch.tensor([math.pi, 0.8, 0.3])[:, None]
    rotations = tait_bryan(yaw, pitch, roll)
    for i in range(50):
        expected = _rotation("z", float(roll[i])) @ _rotation("x", float(pitch[i])) @ _rotation("y", float(yaw[i]))
        np.testing.assert_allclose(rotations[i].numpy(), expected, atol=1e-6)
    one = torch.tensor([0.4])
    zero = torch.zeros(1)
    head, front, right = torch.tensor([0.0, 1.0, 0.0]), torch.tensor([0.0, 0.0, 1.0]), torch.tensor([1.0, 0.0, 0.0])
    assert (tait_bryan(zero, one, zero)[0] @ head)[2] > 0  # pitch > 0: the top tilts towards the camera
    assert (tait_bryan(torch.tensor([math.pi]), zero, zero)[0] @ front)[2] < -0.99  # yaw = pi: the back
    assert (tait_bryan(zero, zero, one)[0] @ right)[1] > 0  # roll > 0: counter-clockwise


def test_place_in_front_fills_the_image():
    points = torch.randn(8, 24, 3, generator=gen()) * torch.tensor([0.3, 0.8, 0.2])
    focal = torch.linspace(1.0, 3.0, 8)
    t = place_in_front(points, focal, fill=0.8)
    cam = points @ FLIP + t[:, None]
    assert (cam[..., 2] > 0).all()
    xy = cam[..., :2] / cam[..., 2:] * focal[:, None, None]
    extent = (xy.amax(1) - xy.amin(1)).amax(1)
    assert (extent <= 0.8 + 1e-5).all() and (extent > 0.6).all()
    assert ((xy.amax(1) + xy.amin(1)) / 2).abs().max() < 0.1


def test_spin_projection_is_nearly_weak_perspective():
    joints = torch.tensor([[[0.2, -0.3, 0.05]]])
    camera = torch.tensor([[0.8, 0.1, 0.05]])
    weak = 0.8 * (joints[..., :2] + camera[:, None, 1:])
    torch.testing.assert_close(project_spin(joints, camera), weak, atol=2e-3, rtol=0)


def test_weak_perspective_matches_the_pinhole_at_the_body_depth():
    """A flat body at depth t_z: SPIN's camera from ``weak_perspective`` puts its points where
    the pinhole crop does, in SPIN's normalized crop coordinates."""
    size = 64
    cam_t = torch.tensor([[0.1, -0.2, 8.0]])
    focal, principal = torch.tensor([[150.0, 150.0]]), torch.tensor([[30.0, 36.0]])
    body = torch.tensor([[[0.3, 0.4, 0.0], [-0.2, 0.1, 0.0]]])
    pixels = project(body + cam_t[:, None], focal, principal)
    weak = weak_perspective(cam_t, focal, principal, size)
    normalized = weak[:, :1, None] * (body[..., :2] + weak[:, None, 1:])
    torch.testing.assert_close(normalized, 2 * pixels / size - 1, atol=1e-5, rtol=0)
