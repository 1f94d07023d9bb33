"""Metrics and Procrustes against independent float64 numpy references and hand-solved cases."""

import numpy as np
import pytest
import torch

from mocap_hmr.errors import InputShapeError
from mocap_hmr.geometry.procrustes import procrustes_align, similarity_transform
from mocap_hmr.metrics import (
    PRESETS,
    SPIN_3DPW,
    SPIN_MPI_INF,
    VIBE_3DPW,
    Protocol,
    accel_error,
    acceleration,
    align_joints,
    evaluate_joints,
    mpjpe,
    mpvpe,
    pa_mpjpe,
)

# Written out here on purpose (SPIN constants.py), not imported from the module under test.
LSP_FROM_H36M = [6, 5, 4, 1, 2, 3, 16, 15, 14, 11, 12, 13, 8, 10]


def _rng(seed=0):
    return np.random.default_rng(seed)


def _rotation(rng):
    """A random proper rotation (3, 3), float64."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def _rz(deg):
    a = np.deg2rad(deg)
    return np.array([[np.cos(a), -np.sin(a), 0.0], [np.sin(a), np.cos(a), 0.0], [0.0, 0.0, 1.0]])


# ---------------------------------------------------------------- numpy references (loops)


def _ref_mpjpe(pred, gt, select, root):
    """root(joints) -> (3,) point to subtract, or None; select: list of rows. mm per sample."""
    out = []
    for p, g in zip(pred, gt, strict=True):
        if root is not None:
            p, g = p - root(p), g - root(g)
        out.append(np.mean([np.linalg.norm(p[j] - g[j]) for j in select]) * 1000.0)
    return np.array(out)


def _horn_rotation(x0, y0):
    """Best proper rotation mapping centred x0 onto y0 by Horn's quaternion method (no SVD)."""
    s = x0.T @ y0  # s[a, b] = sum_j x_a y_b
    sxx, sxy, sxz, syx, syy, syz, szx, szy, szz = s.ravel()
    n = np.array(
        [
            [sxx + syy + szz, syz - szy, szx - sxz, sxy - syx],
            [syz - szy, sxx - syy - szz, sxy + syx, szx + sxz],
            [szx - sxz, sxy + syx, -sxx + syy - szz, syz + szy],
            [sxy - syx, szx + sxz, syz + szy, -sxx - syy + szz],
        ]
    )
    w, x, y, z = np.linalg.eigh(n)[1][:, -1]
    return np.array(
        [
            [w * w + x * x - y * y - z * z, 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), w * w - x * x + y * y - z * z, 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), w * w - x * x - y * y + z * z],
        ]
    )


def _ref_procrustes(p, g):
    """Similarity fit of p (J, 3) onto g (J, 3): Horn rotation, least-squares scale."""
    x0, y0 = p - p.mean(0), g - g.mean(0)
    r = _horn_rotation(x0, y0)
    rx = x0 @ r.T
    s = np.sum(y0 * rx) / np.sum(x0 * x0)
    return s * rx + g.mean(0)


def _ref_pa_mpjpe(pred, gt, select):
    out = []
    for p, g in zip(pred, gt, strict=True):
        p, g = p[select], g[select]
        aligned = _ref_procrustes(p, g)
        out.append(np.mean([np.linalg.norm(aligned[j] - g[j]) for j in range(len(select))]) * 1000.0)
    return np.array(out)


def _ref_accel_error(pred, gt):
    out = []
    for t in range(1, len(pred) - 1):
        per_joint = []
        for j in range(pred.shape[1]):
            a_p = pred[t - 1, j] - 2 * pred[t, j] + pred[t + 1, j]
            a_g = gt[t - 1, j] - 2 * gt[t, j] + gt[t + 1, j]
            per_joint.append(np.linalg.norm(a_p - a_g))
        out.append(np.mean(per_joint) * 1000.0)
    return np.array(out)


def _pelvis(j):
    return j[0]


def _lsp_hips(j):
    return 0.5 * (j[LSP_FROM_H36M[2]] + j[LSP_FROM_H36M[3]])


@pytest.fixture
def pair17():
    rng = _rng(1)
    gt = rng.normal(scale=0.3, size=(6, 17, 3))
    pred = gt + rng.normal(scale=0.05, size=gt.shape) + np.array([0.1, -0.2, 3.0])
    return pred, gt


# ---------------------------------------------------------------- Procrustes


def test_procrustes_matches_horn_reference_float64_and_float32():
    rng = _rng(2)
    pred, gt = rng.normal(size=(5, 14, 3)), rng.normal(size=(5, 14, 3))
    ref = np.stack([_ref_procrustes(p, g) for p, g in zip(pred, gt, strict=True)])
    out64 = procrustes_align(torch.from_numpy(pred), torch.from_numpy(gt))
    out32 = procrustes_align(torch.from_numpy(pred).float(), torch.from_numpy(gt).float())
    assert out64.dtype == torch.float64 and out32.dtype == torch.float32
    np.testing.assert_allclose(out64.numpy(), ref, atol=1e-10)
    np.testing.assert_allclose(out32.numpy(), ref, atol=1e-4)


def test_procrustes_recovers_a_similarity_copy():
    rng = _rng(3)
    pred = rng.normal(size=(4, 10, 3))
    rots = np.stack([_rotation(rng) for _ in range(4)])
    scales, shifts = np.array([0.5, 1.0, 2.0, 7.0]), rng.normal(size=(4, 3))
    gt = scales[:, None, None] * np.einsum("nab,njb->nja", rots, pred) + shifts[:, None]
    scale, rotation, translation = similarity_transform(torch.from_numpy(pred), torch.from_numpy(gt))
    np.testing.assert_allclose(scale.numpy(), scales, atol=1e-10)
    np.testing.assert_allclose(rotation.numpy(), rots, atol=1e-10)
    np.testing.assert_allclose(translation.numpy(), shifts, atol=1e-10)


def test_procrustes_never_reflects():
    rng = _rng(4)
    pred = rng.normal(size=(8, 9, 3))
    mirrored = pred * np.array([-1.0, 1.0, 1.0])  # a reflection of each sample: no rotation reaches it
    for gt in (mirrored, rng.normal(size=pred.shape)):
        _, rotation, _ = similarity_transform(torch.from_numpy(pred), torch.from_numpy(gt))
        np.testing.assert_allclose(torch.linalg.det(rotation).numpy(), 1.0, atol=1e-10)
        np.testing.assert_allclose(
            rotation.transpose(1, 2) @ rotation, np.broadcast_to(np.eye(3), (8, 3, 3)), atol=1e-10
        )
    aligned = procrustes_align(torch.from_numpy(pred), torch.from_numpy(mirrored)).numpy()
    assert np.all(np.abs(aligned - mirrored).max(axis=(1, 2)) > 1e-3)  # a reflection would fit exactly


def test_procrustes_bad_shapes():
    with pytest.raises(InputShapeError, match=r"\(N, J, 3\)"):
        procrustes_align(torch.zeros(2, 5, 2), torch.zeros(2, 5, 2))
    with pytest.raises(InputShapeError):
        procrustes_align(torch.zeros(2, 5, 3), torch.zeros(2, 6, 3))


# ---------------------------------------------------------------- MPJPE / alignments / joint sets


@pytest.mark.parametrize(("align", "root"), [("none", None), ("pelvis", _pelvis), ("hips", _lsp_hips)])
def test_mpjpe_lsp14_matches_reference(pair17, align, root):
    pred, gt = pair17
    ref = _ref_mpjpe(pred, gt, LSP_FROM_H36M, root)
    out = mpjpe(torch.from_numpy(pred), torch.from_numpy(gt), joint_set="lsp14", align=align)
    assert out.shape == (6,) and out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12)


def test_mpjpe_h36m17_and_smpl24_match_reference(pair17):
    pred, gt = pair17
    h36m_hips = lambda j: 0.5 * (j[1] + j[4])  # noqa: E731
    out = mpjpe(pred, gt, joint_set="h36m17", align="hips")  # numpy in, the 17 joints in any order
    np.testing.assert_allclose(out.numpy(), _ref_mpjpe(pred, gt, range(17), h36m_hips), rtol=1e-12)
    rng = _rng(5)
    gt24 = rng.normal(size=(3, 24, 3))
    pred24 = gt24 + rng.normal(scale=0.1, size=gt24.shape)
    for align, root in (("pelvis", _pelvis), ("hips", lambda j: 0.5 * (j[1] + j[2]))):
        out = mpjpe(pred24, gt24, joint_set="smpl24", align=align)
        np.testing.assert_allclose(out.numpy(), _ref_mpjpe(pred24, gt24, range(24), root), rtol=1e-12)


def test_pelvis_and_hips_alignment_differ_when_pelvis_is_offset():
    gt = _rng(6).normal(size=(2, 17, 3))
    pred = gt.copy()
    pred[:, 0] += np.array([0.0, 0.03, 0.04])  # pelvis 50 mm off the hip midpoint, joint 0 not in lsp14
    assert np.allclose(mpjpe(pred, gt, joint_set="lsp14", align="pelvis").numpy(), 50.0)
    assert np.allclose(mpjpe(pred, gt, joint_set="lsp14", align="hips").numpy(), 0.0)
    assert np.allclose(mpjpe(pred, gt, joint_set="lsp14", align="none").numpy(), 0.0)
    assert np.allclose(mpjpe(pred, gt, joint_set="h36m17", align="none").numpy(), 50.0 / 17)


def test_pure_translation_is_removed_by_both_alignments():
    gt = _rng(7).normal(size=(3, 17, 3))
    pred = gt + np.array([0.3, 0.0, 0.4])
    assert np.allclose(mpjpe(pred, gt, joint_set="lsp14", align="none").numpy(), 500.0)
    for align in ("pelvis", "hips"):
        assert np.allclose(mpjpe(pred, gt, joint_set="lsp14", align=align).numpy(), 0.0, atol=1e-9)


def test_align_joints_selects_after_subtracting_root():
    joints = torch.arange(17 * 3, dtype=torch.float64).reshape(1, 17, 3)
    out = align_joints(joints, joint_set="lsp14", align="pelvis")
    np.testing.assert_array_equal(out.numpy()[0], (joints[0] - joints[0, 0])[LSP_FROM_H36M].numpy())


def test_mpjpe_dtype_option(pair17):
    pred, gt = (torch.from_numpy(a).float() for a in pair17)
    ref = _ref_mpjpe(*pair17, LSP_FROM_H36M, _pelvis)
    out32 = mpjpe(pred, gt)
    out64 = mpjpe(pred, gt, dtype=torch.float64)
    assert out32.dtype == torch.float32 and out64.dtype == torch.float64
    np.testing.assert_allclose(out32.numpy(), ref, rtol=1e-5)
    # float64 on float32 inputs: exact up to the inputs' own rounding.
    np.testing.assert_allclose(
        out64.numpy(), _ref_mpjpe(pred.double().numpy(), gt.double().numpy(), LSP_FROM_H36M, _pelvis), rtol=1e-12
    )


# ---------------------------------------------------------------- PA-MPJPE


def test_pa_mpjpe_matches_reference(pair17):
    pred, gt = pair17
    np.testing.assert_allclose(
        pa_mpjpe(pred, gt, joint_set="lsp14").numpy(), _ref_pa_mpjpe(pred, gt, LSP_FROM_H36M), rtol=1e-9
    )
    np.testing.assert_allclose(
        pa_mpjpe(pred, gt, joint_set="h36m17").numpy(), _ref_pa_mpjpe(pred, gt, list(range(17))), rtol=1e-9
    )


def test_pa_mpjpe_zero_for_similarity_copy():
    rng = _rng(8)
    gt = rng.normal(size=(4, 17, 3))
    pred = np.stack([2.5 * g @ _rotation(rng).T + rng.normal(size=3) for g in gt])
    assert np.allclose(pa_mpjpe(pred, gt).numpy(), 0.0, atol=1e-9)
    assert pa_mpjpe(pred.astype(np.float32), gt.astype(np.float32)).max() < 1e-2


def test_pa_mpjpe_hand_solved():
    # Pred: a plus sign of unit arms. Gt: the same, x arms stretched to 2. Cross-covariance diag(4, 2, 0),
    # so R = I, t = 0, s = (4 + 2) / 4 = 1.5 and every joint is 0.5 m off: 500 mm. Gt is then moved by
    # a similarity with scale 3 (error x3 = 1500 mm), pred by a rigid motion (no change).
    plus = np.array([[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]])
    stretched = plus * np.array([2.0, 1.0, 1.0])
    rng = _rng(9)
    gt = 3.0 * stretched @ _rotation(rng).T + np.array([1.0, 2.0, 3.0])
    pred = plus @ _rz(40).T - 5.0
    aligned = procrustes_align(torch.from_numpy(pred[None]), torch.from_numpy(gt[None]))
    err = np.linalg.norm(aligned[0].numpy() - gt, axis=1) * 1000.0
    np.testing.assert_allclose(err, 1500.0, rtol=1e-10)


def test_pa_mpjpe_independent_of_alignment_and_translation(pair17):
    pred, gt = pair17
    shifted = pa_mpjpe(pred + np.array([5.0, -1.0, 2.0]), gt)
    np.testing.assert_allclose(shifted.numpy(), pa_mpjpe(pred, gt).numpy(), rtol=1e-9)


# ---------------------------------------------------------------- MPVPE


def test_mpvpe_none_and_rooted():
    rng = _rng(10)
    gt_v = rng.normal(size=(3, 50, 3))
    pred_v = gt_v + rng.normal(scale=0.02, size=gt_v.shape)
    np.testing.assert_allclose(mpvpe(pred_v, gt_v).numpy(), _ref_mpjpe(pred_v, gt_v, range(50), None), rtol=1e-12)
    gt_j, pred_j = rng.normal(size=(3, 17, 3)), rng.normal(size=(3, 17, 3))
    out = mpvpe(pred_v, gt_v, align="hips", pred_joints=pred_j, gt_joints=gt_j, joint_set="lsp14")
    ref = [
        np.mean(np.linalg.norm((pv - _lsp_hips(pj)) - (gv - _lsp_hips(gj)), axis=1)) * 1000
        for pv, gv, pj, gj in zip(pred_v, gt_v, pred_j, gt_j, strict=True)
    ]
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12)
    with pytest.raises(ValueError, match="pred_joints and gt_joints"):
        mpvpe(pred_v, gt_v, align="pelvis")


# ---------------------------------------------------------------- acceleration


def test_accel_error_matches_reference():
    rng = _rng(11)
    gt = np.cumsum(rng.normal(scale=0.01, size=(20, 14, 3)), axis=0)
    pred = gt + rng.normal(scale=0.005, size=gt.shape)
    out = accel_error(pred, gt)
    assert out.shape == (18,)
    np.testing.assert_allclose(out.numpy(), _ref_accel_error(pred, gt), rtol=1e-12)


def test_accel_error_zero_for_constant_velocity_offset():
    rng = _rng(12)
    gt = np.cumsum(rng.normal(scale=0.01, size=(10, 5, 3)), axis=0)
    t = np.arange(10)[:, None, None]
    pred = gt + 0.2 + 0.03 * t * rng.normal(size=(1, 5, 3))  # plus constant-velocity drift per joint
    assert np.allclose(accel_error(pred, gt).numpy(), 0.0, atol=1e-9)
    assert np.allclose(acceleration(0.2 + 0.03 * t * np.ones((1, 5, 3))).numpy(), 0.0, atol=1e-9)


def test_accel_hand_computed_and_fps():
    # Joint 0 moves to x = 3 mm at frame 2 (second difference 3 mm); joint 1 sits at y = 1 mm at
    # frame 1 only (second difference -2 mm). Mean over joints: 2.5 mm/frame^2; at 30 fps x 900.
    pred = np.zeros((3, 2, 3))
    pred[2, 0, 0] = 0.003
    pred[1, 1, 1] = 0.001
    gt = np.zeros_like(pred)
    np.testing.assert_allclose(accel_error(pred, gt).numpy(), [2.5])
    np.testing.assert_allclose(accel_error(pred, gt, fps=30).numpy(), [2250.0])
    np.testing.assert_allclose(acceleration(pred, fps=30).numpy(), [2250.0])
    np.testing.assert_allclose(accel_error(gt, pred).numpy(), [2.5])


def test_accel_bad_shapes():
    with pytest.raises(InputShapeError, match="N >= 3"):
        accel_error(np.zeros((2, 14, 3)), np.zeros((2, 14, 3)))
    with pytest.raises(InputShapeError):
        accel_error(np.zeros((5, 14, 3)), np.zeros((6, 14, 3)))
    with pytest.raises(InputShapeError):
        acceleration(np.zeros((5, 14)))


# ---------------------------------------------------------------- protocols and errors


def test_protocols_describe_themselves():
    assert SPIN_3DPW == Protocol("lsp14", "pelvis")  # the name is a label, not compared
    assert VIBE_3DPW.align == "hips" and SPIN_MPI_INF.joint_set == "h36m17"
    assert set(PRESETS) == {"SPIN_3DPW", "SPIN_H36M", "SPIN_MPI_INF", "VIBE_3DPW"}
    d = VIBE_3DPW.as_dict()
    assert d["joint_set"] == "lsp14" and d["align"] == "hips" and d["name"] == "VIBE_3DPW"
    assert "H36M_TO_J14" in d["description"] and "hips" in VIBE_3DPW.describe()
    assert "H36M_TO_J17" in SPIN_MPI_INF.describe()


def test_evaluate_joints_under_protocols(pair17):
    pred, gt = pair17
    spin, vibe = evaluate_joints(pred, gt, SPIN_3DPW), evaluate_joints(pred, gt, VIBE_3DPW)
    np.testing.assert_allclose(spin["mpjpe"].numpy(), _ref_mpjpe(pred, gt, LSP_FROM_H36M, _pelvis), rtol=1e-12)
    np.testing.assert_allclose(vibe["mpjpe"].numpy(), _ref_mpjpe(pred, gt, LSP_FROM_H36M, _lsp_hips), rtol=1e-12)
    np.testing.assert_allclose(spin["pa_mpjpe"].numpy(), vibe["pa_mpjpe"].numpy(), rtol=1e-9)
    assert not np.allclose(spin["mpjpe"].numpy(), vibe["mpjpe"].numpy())


def test_unknown_names_list_the_accepted_ones(pair17):
    pred, gt = pair17
    with pytest.raises(ValueError, match="lsp14, h36m17, smpl24"):
        mpjpe(pred, gt, joint_set="coco17")
    with pytest.raises(ValueError, match="none, pelvis, hips"):
        mpjpe(pred, gt, align="root")
    with pytest.raises(ValueError, match="none, pelvis, hips"):
        Protocol("lsp14", "root")


def test_bad_shapes_raise(pair17):
    pred, gt = pair17
    with pytest.raises(InputShapeError, match=r"takes \(N, 24, 3\)"):
        mpjpe(pred, gt, joint_set="smpl24")
    with pytest.raises(InputShapeError, match=r"takes \(N, 17, 3\)"):
        pa_mpjpe(pred[:, :14], gt[:, :14])
    with pytest.raises(InputShapeError, match="same N and J"):
        mpjpe(pred, gt[:3])
    with pytest.raises(InputShapeError):
        mpvpe(np.zeros((2, 10, 3)), np.zeros((2, 10, 2)))
