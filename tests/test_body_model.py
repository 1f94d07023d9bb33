"""BodyModel on both bodies (the tiny one and, where anny is installed, the stand-in):
forward kinematics against an independent float64 FK, pose-direction semantics, shape,
SPIN/H36M joints, smplx compatibility; input errors on the tiny body."""

import pickle

import numpy as np
import pytest
import smplx
import torch

from mocap_hmr.body import SMPL_JOINT_NAMES, SMPL_PARENTS, SPIN_JOINT_NAMES, BodyModel
from mocap_hmr.errors import InputShapeError
from mocap_hmr.geometry import axis_angle_to_matrix

J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}


@pytest.fixture(scope="module", params=["tiny", pytest.param("standin", marks=pytest.mark.slow)])
def body_dir(request):
    return request.getfixturevalue(f"{request.param}_body_dir")


@pytest.fixture(scope="module")
def body(body_dir):
    return BodyModel(body_dir)


@pytest.fixture(scope="module")
def raw(body_dir):
    with open(body_dir / "SMPL_NEUTRAL.pkl", "rb") as fh:
        return pickle.load(fh)


@pytest.fixture(scope="module")
def tiny_body(tiny_body_dir):
    return BodyModel(tiny_body_dir)


def reference_fk(raw, pose_aa, betas, transl):
    """Float64 FK written from the SMPL paper, one sample at a time: joints (24, 3)."""
    shaped = raw["v_template"].astype(np.float64) + np.einsum(
        "vck,k->vc", raw["shapedirs"][:, :, : len(betas)].astype(np.float64), betas)
    rest = raw["J_regressor"].astype(np.float64) @ shaped
    rot = axis_angle_to_matrix(torch.from_numpy(pose_aa)).numpy()
    world_r, world_t = [None] * 24, [None] * 24
    for j in range(24):
        p = SMPL_PARENTS[j]
        if p < 0:
            world_r[j], world_t[j] = rot[j], rest[j]
        else:
            world_r[j] = world_r[p] @ rot[j]
            world_t[j] = world_r[p] @ (rest[j] - rest[p]) + world_t[p]
    return np.stack(world_t) + transl


def test_forward_kinematics_matches_float64_reference(body, raw):
    gen = torch.Generator().manual_seed(0)
    pose = torch.randn(6, 24, 3, generator=gen, dtype=torch.float64) * 0.6
    betas = torch.randn(6, 10, generator=gen, dtype=torch.float64)
    transl = torch.randn(6, 3, generator=gen, dtype=torch.float64)
    out = body(pose.float(), betas.float(), transl.float())
    for i in range(6):
        ref = reference_fk(raw, pose[i].numpy(), betas[i].numpy(), transl[i].numpy())
        np.testing.assert_allclose(out.joints[i].detach().numpy(), ref, atol=2e-5)


def test_rotation_matrices_and_flat_pose_give_the_same_result(body):
    gen = torch.Generator().manual_seed(1)
    pose = torch.randn(3, 24, 3, generator=gen) * 0.5
    a = body(pose).vertices
    b = body(axis_angle_to_matrix(pose)).vertices
    c = body(pose.reshape(3, 72)).vertices
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(a, c)


def pose_one(joint: str, axis_angle) -> torch.Tensor:
    pose = torch.zeros(1, 24, 3)
    pose[0, J[joint]] = torch.tensor(axis_angle, dtype=torch.float32)
    return pose


def test_frame_convention_y_up_facing_z_left_at_plus_x(body):
    rest = body(torch.zeros(1, 24, 3))
    j = rest.joints[0]
    assert j[J["head"], 1] > j[J["pelvis"], 1] > j[J["left_ankle"], 1]
    assert j[J["left_hip"], 0] > 0 > j[J["right_hip"], 0]
    assert j[J["left_wrist"], 0] > 0.5 and j[J["right_wrist"], 0] < -0.5  # T-pose
    assert j[J["left_foot"], 2] > j[J["left_ankle"], 2]  # toes point forward (+Z)
    nose = rest.spin_joints[0, SPIN_JOINT_NAMES.index("Nose")]
    assert nose[2] > j[J["head"], 2]


@pytest.mark.parametrize(
    "joint,axis_angle,moved,expect",
    [
        # a positive X rotation of the left knee swings the left ankle backwards (-Z)
        ("left_knee", (1.0, 0, 0), "left_ankle", (None, "+", "-")),
        ("right_knee", (1.0, 0, 0), "right_ankle", (None, "+", "-")),
        # elbows bend forward with -Y (left) and +Y (right)
        ("left_elbow", (0, -1.0, 0), "left_wrist", ("-", None, "+")),
        ("right_elbow", (0, 1.0, 0), "right_wrist", ("+", None, "+")),
        # shoulders lower the arms with -Z (left) and +Z (right)
        ("left_shoulder", (0, 0, -1.0), "left_wrist", ("-", "-", None)),
        ("right_shoulder", (0, 0, 1.0), "right_wrist", ("+", "-", None)),
        # a positive X rotation of the neck nods the head forward
        ("neck", (1.0, 0, 0), "head", (None, "-", "+")),
        # hips: a negative X rotation lifts the thigh forward
        ("left_hip", (-1.0, 0, 0), "left_knee", (None, "+", "+")),
    ],
)
def test_direction_semantics_match_smpl(body, joint, axis_angle, moved, expect):
    rest = body(torch.zeros(1, 24, 3)).joints[0, J[moved]]
    posed = body(pose_one(joint, axis_angle)).joints[0, J[moved]]
    for axis, sign in enumerate(expect):
        if sign is not None:
            delta = (posed - rest)[axis].item()
            assert (delta > 0.02) if sign == "+" else (delta < -0.02), (axis, delta)


def test_global_orientation_turns_the_body_around(body):
    out = body(pose_one("pelvis", (0, np.pi, 0)))
    j = out.joints[0]
    nose = out.spin_joints[0, SPIN_JOINT_NAMES.index("Nose")]
    assert j[J["left_hip"], 0] < 0 and nose[2] < j[J["head"], 2]


def test_first_shape_direction_changes_height_monotonically(body):
    betas = torch.zeros(9, 10)
    betas[:, 0] = torch.linspace(-3, 3, 9)
    v = body(torch.zeros(9, 24, 3), betas).vertices
    height = v[..., 1].amax(1) - v[..., 1].amin(1)
    assert (height.diff() > 1e-3).all(), height


def test_spin_and_h36m_joints(body):
    gen = torch.Generator().manual_seed(2)
    out = body(torch.randn(2, 24, 3, generator=gen) * 0.4)
    assert out.spin_joints.shape == (2, 49, 3) and out.h36m_joints.shape == (2, 17, 3)
    for spin_name, smpl_name in [("OP LKnee", "left_knee"), ("Right Wrist", "right_wrist"),
                                 ("OP MidHip", "pelvis")]:
        torch.testing.assert_close(out.spin_joints[:, SPIN_JOINT_NAMES.index(spin_name)],
                                   out.joints[:, J[smpl_name]])
    # at rest, joints regressed from the vertices are the skeleton's joints
    rest = body(torch.zeros(1, 24, 3))
    torch.testing.assert_close(rest.h36m_joints[:, 0], rest.joints[:, J["pelvis"]], atol=1e-5, rtol=0)
    # SPIN's row order: evaluation reads LSP's 14 joints with H36M_TO_J14 (LSP: right leg, then left)
    lsp = rest.h36m_joints[0, [6, 5, 4, 1, 2, 3, 16, 15, 14, 11, 12, 13]]
    sides = ["right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
             "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist"]
    torch.testing.assert_close(lsp, rest.joints[0, [J[n] for n in sides]], atol=1e-5, rtol=0)


def test_h36m_joints_without_the_mesh_equal_the_meshs(body_dir):
    body = BodyModel(body_dir)
    buffers = {name for name, _ in body.named_buffers()}
    gen = torch.Generator().manual_seed(3)
    pose = torch.randn(5, 24, 3, generator=gen, dtype=torch.float64) * 0.6
    betas = torch.randn(5, 10, generator=gen, dtype=torch.float64)
    assert body.h36m_joints(pose.float(), betas.float()).dtype == torch.float32
    body = body.double()  # after a first use in float32: the summed arrays follow the dtype
    torch.testing.assert_close(body.h36m_joints(pose, betas), body(pose, betas).h36m_joints, atol=1e-12, rtol=0)
    assert body._h36m_skin()["posedirs"].dtype == torch.float64
    assert {name for name, _ in body.named_buffers()} == buffers  # not part of the model's state or fingerprint
    with pytest.raises(InputShapeError, match="betas has shape"):
        body.h36m_joints(pose, betas[:2])


def test_spin_joint_map_matches_spin_constants():
    """SPIN's JOINT_MAP indexes [45 smplx joints | 9 extra]; ours [24 | 11 vertex | 9 extra]."""
    from mocap_hmr.body.joint_maps import SPIN_JOINT_SOURCES

    spin_joint_map = [24, 12, 17, 19, 21, 16, 18, 20, 0, 2, 5, 8, 1, 4, 7, 25, 26, 27, 28, 29, 30,
                      31, 32, 33, 34, 8, 5, 45, 46, 4, 7, 21, 19, 17, 16, 18, 20, 47, 48, 49, 50,
                      51, 52, 53, 24, 26, 25, 28, 27]
    expected = [i if i < 35 else i - 10 for i in spin_joint_map]
    assert list(SPIN_JOINT_SOURCES) == expected


@pytest.mark.parametrize("shape", [(2, 69), (2, 24, 4), (2, 23, 3), (24, 3)])
def test_wrong_pose_shape_is_refused(tiny_body, shape):
    with pytest.raises(InputShapeError, match=r"pose has shape .*expected \(B, 24, 3\)"):
        tiny_body(torch.zeros(shape))


def test_too_many_betas_is_refused(tiny_body):
    with pytest.raises(InputShapeError, match=r"betas has shape \(2, 11\).*n <= 10"):
        tiny_body(torch.zeros(2, 24, 3), torch.zeros(2, 11))
    # fewer betas are padded with zeros
    torch.testing.assert_close(tiny_body(torch.zeros(1, 24, 3), torch.zeros(1, 3)).vertices,
                               tiny_body(torch.zeros(1, 24, 3)).vertices)


def test_smplx_create_loads_the_body_folder(body_dir, body, raw):
    model = smplx.create(str(body_dir), model_type="smpl", vertex_ids=raw["vertex_ids"],
                         use_hands=False)
    gen = torch.Generator().manual_seed(3)
    pose = torch.randn(2, 24, 3, generator=gen) * 0.4
    betas = torch.randn(2, 10, generator=gen)
    theirs = model(global_orient=pose[:, 0], body_pose=pose[:, 1:].reshape(2, 69), betas=betas)
    ours = body(pose, betas)
    torch.testing.assert_close(theirs.vertices, ours.vertices, atol=1e-5, rtol=0)


def test_joint_only_forward_kinematics_matches_the_body(body):
    from mocap_hmr.body.kinematics import forward_kinematics

    gen = torch.Generator().manual_seed(9)
    pose = torch.randn(5, 24, 3, generator=gen) * 0.5
    rest = body(torch.zeros(1, 24, 3)).joints[0]
    torch.testing.assert_close(forward_kinematics(axis_angle_to_matrix(pose), rest), body(pose).joints,
                               atol=1e-5, rtol=0)
