"""The nearest-neighbour pose distance (geometry.pose_distance) against a slow float64 loop over
every (pose, corpus frame, joint) with the angle of the relative rotation, and the binned gain
report that uses it (evaluation.pose_gap)."""

import math

import numpy as np
import pytest
import torch

from mocap_hmr.evaluation.pose_gap import gain_by_pose_distance, markdown
from mocap_hmr.evaluation.results import Result
from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_axis_angle
from mocap_hmr.geometry.pose_distance import BODY_JOINTS, geodesic_angles, nearest_pose_distance


def _poses(n, seed, scale=0.8):
    return axis_angle_to_matrix(scale * torch.randn(n, 24, 3, generator=torch.Generator().manual_seed(seed),
                                                    dtype=torch.float64))


def _reference(poses, corpus, joints=BODY_JOINTS):
    """Loops in float64: the angle of a joint is the norm of the axis-angle of Ra^T Rb."""
    distance, nearest = [], []
    for a in poses:
        best, where = math.inf, -1
        for m, b in enumerate(corpus):
            d = np.mean([float(matrix_to_axis_angle(a[j].T @ b[j]).norm()) for j in joints])
            if d < best:
                best, where = d, m
        distance.append(best)
        nearest.append(where)
    return np.array(distance), np.array(nearest)


@pytest.mark.parametrize("chunk", [1, 3, 64])
def test_nearest_pose_distance_matches_a_float64_loop(chunk):
    poses, corpus = _poses(7, 0), _poses(11, 1)
    corpus[4] = poses[2]  # a pose in the corpus is at distance 0 from it
    corpus[6, 0] = _poses(1, 2)[0, 0]  # only the root differs from poses[5]: the root is left out
    corpus[6, 1:] = poses[5, 1:]
    expected, nearest = _reference(poses, corpus)
    got, where = nearest_pose_distance(poses, corpus, chunk=chunk, dtype=torch.float64)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-6)
    assert where.tolist() == nearest.tolist() and where[2] == 4 and where[5] == 6
    single, _ = nearest_pose_distance(poses.float(), corpus.float(), chunk=chunk)  # float32: arccos near 0
    assert single.dtype == torch.float32
    np.testing.assert_allclose(single.double().numpy(), expected, atol=2e-3)


def test_distance_over_chosen_joints_and_its_errors():
    poses, corpus = _poses(3, 3), _poses(5, 4)
    expected, _ = _reference(poses, corpus, joints=(0, 7))
    got, _ = nearest_pose_distance(poses, corpus, joints=(0, 7), dtype=torch.float64)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-6)
    angles = geodesic_angles(poses[:, None], corpus[None])  # (3, 5, 24)
    torch.testing.assert_close(nearest_pose_distance(poses, corpus, dtype=torch.float64)[0],
                               angles[..., 1:].mean(-1).amin(1))
    with pytest.raises(ValueError, match="corpus is empty"):
        nearest_pose_distance(poses, corpus[:0])
    with pytest.raises(ValueError, match=r"\(N, J, 3, 3\)"):
        nearest_pose_distance(poses[0], corpus)


def test_gain_by_pose_distance_bins_the_union_and_correlates():
    gen = torch.Generator().manual_seed(0)
    corpus = _poses(20, 5, scale=0.3).float()
    pose = {"near": matrix_to_axis_angle(corpus[:12]) + 0.02 * torch.randn(12, 24, 3, generator=gen),
            "far": 0.9 * torch.randn(10, 24, 3, generator=gen)}

    def result(method, name, values):
        return Result(method, name, "image", {}, {"pa_mpjpe": float(np.mean(values))},
                      per_sample={"pa_mpjpe": np.asarray(values, dtype=float)}, samples=len(values))

    rng = np.random.default_rng(0)
    start = {"near": 50 + rng.normal(0, 1, 12), "far": 80 + rng.normal(0, 1, 10)}
    results = [result(m, name, start[name] - (offset if m == "MoCap-SPIN" else 0))
               for name, offset in (("near", 1.0), ("far", 10.0)) for m in ("starting model", "MoCap-SPIN")]
    gap = gain_by_pose_distance(results, pose, corpus, bins=4)
    assert gap.summary["benchmarks"] == ["near", "far"] and gap.summary["samples"] == 22
    np.testing.assert_allclose(gap.gain["near"], 1.0)
    np.testing.assert_allclose(gap.gain["far"], 10.0)
    assert gap.distance["near"].max() < gap.distance["far"].min()
    bins = gap.summary["bins"]
    assert len(bins["count"]) == 4 and sum(bins["count"]) == 22 and len(bins["edges"]) == 5
    assert bins["mean"][0] == pytest.approx(1.0) and bins["mean"][-1] == pytest.approx(10.0)
    assert gap.summary["spearman"] > 0.8 and gap.summary["sets"]["far"]["mean_gain_mm"] == pytest.approx(10.0)
    text = "\n".join(markdown(gap.summary))
    assert "Spearman ρ = " in text and "| far | 10 |" in text
    assert gain_by_pose_distance(results[:1], pose, corpus) is None  # no pair of methods to compare
    assert gap.summary["families"] == [] and "Per motion family" not in text


def test_gain_by_pose_distance_per_family():
    gen = torch.Generator().manual_seed(1)
    corpus = _poses(20, 5, scale=0.3).float()
    pose = {"set": torch.cat([matrix_to_axis_angle(corpus[:6]), 0.9 * torch.randn(4, 24, 3, generator=gen)])}
    start = np.arange(10, dtype=float)
    gains = np.array([1.0] * 6 + [5.0] * 4)
    results = [Result(m, "set", "image", {}, {}, per_sample={"pa_mpjpe": v}, samples=10)
               for m, v in (("starting model", start), ("MoCap-SPIN", start - gains))]
    gap = gain_by_pose_distance(results, pose, corpus, {"set": ["walk"] * 6 + ["jump"] * 4}, bins=2)
    walk, jump = gap.summary["families"]
    assert (walk["family"], walk["samples"], jump["family"], jump["samples"]) == ("walk", 6, "jump", 4)
    assert walk["mean_gain_mm"] == pytest.approx(1.0) and jump["mean_gain_mm"] == pytest.approx(5.0)
    assert jump["pa_mpjpe"] == {"starting model": pytest.approx(7.5), "MoCap-SPIN": pytest.approx(2.5)}
    assert walk["mean_distance_deg"] < jump["mean_distance_deg"]
    text = "\n".join(markdown(gap.summary))
    assert "| set | walk | 6 |" in text and "| +5.0 |" in text
