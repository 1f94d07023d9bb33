"""PoseBERT's keypoint input: the body frame against a float64 re-derivation of the release's
preprocessing, bone rescaling, regressed joints without a mesh, the released h36m
architecture, keypoint refinement and training."""

import math

import numpy as np
import pytest
import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.body.kinematics import regressed_joints, regressor_anchors
from mocap_hmr.errors import InputShapeError
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.models.keypoint_input import (
    H36M_BONES,
    body_frame,
    keypoint_features,
    normalize_bone_lengths,
)
from mocap_hmr.models.posebert import build_posebert, load_posebert
from mocap_hmr.refinement import refine

RELEASED_H36M_EMB = (512, 54)


@pytest.fixture(scope="module")
def body(tiny_body_dir):
    return BodyModel(tiny_body_dir)


def rest_h36m(body):
    return body(torch.zeros(1, 24, 3)).h36m_joints[0].double()


def release_frame(pose):
    """The release's alternating alignment in numpy float64, as its skeleton.py describes it:
    a rotation about axis a x b by the angle between a and b, built from the half-angle
    quaternion; 5 rounds of (pelvis - spine -> +y, left hip - right hip -> +x)."""
    def turn(a, b):
        axis = np.cross(a, b)
        angle = math.acos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))
        if np.abs(axis).sum() < 1e-6 or angle < 1e-6:
            return np.eye(3)
        x, y, z = axis / np.linalg.norm(axis) * math.sin(angle / 2)
        w = math.cos(angle / 2)
        return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
                         [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
                         [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]])

    rel = pose - pose[0]
    total = np.eye(3)
    for _ in range(5):
        for (top, bottom), axis in (((0, 7), [0.0, 1.0, 0.0]), ((1, 4), [1.0, 0.0, 0.0])):
            r = turn(rel[top] - rel[bottom], np.array(axis))
            rel = rel @ r.T
            total = r @ total
    return total, rel


def test_body_frame_matches_the_release_procedure(body):
    skeleton = rest_h36m(body).numpy()
    rng = np.random.default_rng(0)
    for _ in range(4):
        view = axis_angle_to_matrix(torch.tensor(rng.normal(size=3) * 1.5)).numpy()
        joints = skeleton @ view.T + rng.normal(scale=0.02, size=(17, 3)) + rng.normal(size=3)
        expected_root, expected_rel = release_frame(joints)
        root, rel = body_frame(torch.tensor(joints))
        np.testing.assert_allclose(root.numpy(), expected_root, atol=1e-9)
        np.testing.assert_allclose(rel.numpy(), expected_rel, atol=1e-9)
        np.testing.assert_allclose(root.numpy() @ root.numpy().T, np.eye(3), atol=1e-9)


def test_features_do_not_depend_on_the_view(body):
    # (not from the rest pose itself: its pelvis - spine bone is exactly opposite +y, where the
    # release leaves the skeleton unturned)
    joints = rest_h36m(body) @ axis_angle_to_matrix(torch.tensor([2.5, 0.1, 0.2], dtype=torch.float64)).T
    view = axis_angle_to_matrix(torch.tensor([0.3, 2.0, -0.4], dtype=torch.float64))
    a, b = keypoint_features(joints), keypoint_features(joints @ view.T + torch.tensor([1.0, 2.0, 3.0]))
    torch.testing.assert_close(a[6:], b[6:], atol=1e-6, rtol=0)  # relative joints (5 rounds settle to ~1e-7)
    assert (a[:6] - b[:6]).abs().max() > 0.1  # the root carries the view
    with pytest.raises(InputShapeError, match=r"joints has shape \(4, 16, 3\); expected \(..., 17, 3\)"):
        keypoint_features(torch.zeros(4, 16, 3))


def test_bone_lengths_are_rescaled_and_directions_kept(body):
    reference = rest_h36m(body)
    joints = torch.randn(3, 17, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    out = normalize_bone_lengths(joints, reference)
    torch.testing.assert_close(out[:, 0], joints[:, 0])
    for joint, parent in H36M_BONES:
        bone, new = joints[:, joint] - joints[:, parent], out[:, joint] - out[:, parent]
        torch.testing.assert_close(new.norm(dim=-1), (reference[joint] - reference[parent]).norm().expand(3))
        torch.testing.assert_close(torch.linalg.cross(bone, new), torch.zeros_like(bone), atol=1e-12, rtol=0)
        assert ((bone * new).sum(-1) > 0).all()


def test_regressed_joints_without_the_mesh_equal_the_mesh_joints(body):
    rest = body(torch.zeros(1, 24, 3)).joints[0]
    anchors = regressor_anchors(body.J_regressor_h36m, body.smpl.lbs_weights, body.smpl.v_template, rest)
    pose = 0.5 * torch.randn(5, 24, 3, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(regressed_joints(axis_angle_to_matrix(pose), rest, anchors), body(pose).h36m_joints,
                               atol=1e-5, rtol=0)


def test_released_h36m_architecture_loads_strictly(tmp_path):
    model = build_posebert("released", input="h36m")
    state = model.state_dict()
    assert tuple(state["emb.weight"].shape) == RELEASED_H36M_EMB
    torch.save({"model_state_dict": {k: torch.randn_like(v) for k, v in state.items()}}, tmp_path / "posebert_h36m.pt")
    loaded = load_posebert(tmp_path / "posebert_h36m.pt")
    assert loaded.input == "h36m" and loaded.variant == "released"
    out = loaded(torch.randn(2, 10, 54))
    assert out.rotmat.shape == (2, 10, 24, 3, 3)
    with pytest.raises(InputShapeError, match=r"this PoseBERT takes keypoints: \(B, T, 54\)"):
        loaded(torch.randn(2, 10, 24, 6))


def test_refine_keypoints_fills_nan_frames(body):
    model = build_posebert("paper", max_len=8, dim=32, depth=2, heads=2, hidden=32, input="h36m",
                           skeleton=rest_h36m(body).tolist()).eval()
    pose = 0.3 * torch.randn(30, 24, 3, generator=torch.Generator().manual_seed(3))
    joints = body(pose).h36m_joints
    joints[[4, 5]] = float("nan")
    out = refine(joints, model)
    assert out.shape == (30, 24, 3, 3) and torch.isfinite(out).all()
    torch.testing.assert_close(out, refine(joints * 1.3, model), atol=1e-4, rtol=0)  # bones are rescaled
    with pytest.raises(InputShapeError, match=r"joints have shape \(30, 24, 3\); this PoseBERT takes keypoints"):
        refine(pose, model)
