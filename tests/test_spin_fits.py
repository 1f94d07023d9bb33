"""Real-data supervision as SPIN's trainer does it: 3D joints weighted by their confidence,
SMPL targets from SPIN's fits where they pass SPIN's test, and the fits file's bad inputs."""

import numpy as np
import pytest
import torch
from spin_layout import CENTER, SCALE, keypoints_of, write_spin_dataset

from mocap_hmr.body import BodyModel
from mocap_hmr.config import load_config
from mocap_hmr.data.real_stream import RealImageStream
from mocap_hmr.data.spin_dataset import DatasetError, SpinAugment, SpinDataset
from mocap_hmr.data.spin_fits import FitCheck, estimate_translation, reprojection_error
from mocap_hmr.losses import smpl_loss
from mocap_hmr.training.mocap_spin import MocapSpinTrainer

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def body(tiny_body_dir):
    return BodyModel(tiny_body_dir)


def rodrigues(aa: np.ndarray) -> np.ndarray:
    """(..., 3) axis-angle -> (..., 3, 3), written out independently of mocap_hmr.geometry."""
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)[..., None]
    k = aa / np.maximum(np.linalg.norm(aa, axis=-1, keepdims=True), 1e-12)
    kx = np.zeros((*aa.shape[:-1], 3, 3))
    kx[..., 0, 1], kx[..., 0, 2], kx[..., 1, 2] = -k[..., 2], k[..., 1], -k[..., 0]
    kx = kx - np.swapaxes(kx, -1, -2)
    return np.eye(3) + np.sin(angle) * kx + (1 - np.cos(angle)) * kx @ kx


def stream(tmp_path, body, fits=True, augment=None, n=4, **kw):
    fits_array = write_spin_dataset(tmp_path / "d.npz", tmp_path, tmp_path / "d_fits.npy", body, n=n, **kw)
    dataset = SpinDataset(tmp_path / "d.npz", tmp_path, size=32, augment=augment,
                          fits=tmp_path / "d_fits.npy" if fits else None)
    check = FitCheck(body) if fits else None
    return RealImageStream([dataset], n, CPU, workers=0, fit_check=check), fits_array


def in_dataset_order(real, batch):
    """The batch's rows sorted back into the dataset's sample order (the stream shuffles)."""
    dataset = real.datasets[0]
    order = [next(i for i in range(len(dataset)) if torch.equal(dataset[i]["joints2d"], row)) for row in batch.joints2d]
    back = torch.tensor(order).argsort()
    return type(batch)(**{k: v[back] for k, v in vars(batch).items()})


def test_translation_and_error_of_an_exact_fit(body):
    fits = np.zeros((2, 82), np.float32)
    fits[:, 0] = np.pi
    keypoints = torch.from_numpy(keypoints_of(body, fits)).float()
    joints = body(torch.from_numpy(fits[:, :72]).reshape(-1, 24, 3)).spin_joints
    # the crop keypoints of the test layout (box = scale * 200 px around the centre) -> 224 px pixels
    crop = torch.cat([(keypoints[..., :2] - torch.tensor(CENTER).float()) / (SCALE * 200 / 224) + 112,
                      keypoints[..., 2:]], -1)
    cam_t, solvable = estimate_translation(joints[:, 25:], crop[:, 25:])
    torch.testing.assert_close(cam_t, torch.tensor([[0.0, 0.0, 2 * 5000 / (224 * 0.8)]] * 2), atol=1e-2, rtol=1e-4)
    assert solvable.all()
    assert (reprojection_error(joints, crop) < 1e-2).all()
    no_keypoints = crop.clone()
    no_keypoints[..., 2] = 0
    assert torch.isinf(reprojection_error(joints, no_keypoints)).all()  # no translation: not a valid fit


def test_fits_supervise_a_dataset_without_pose_only_where_valid(tmp_path, body):
    real, fits = stream(tmp_path, body, wrong_fits=(2,))
    batch = in_dataset_order(real, real.sample(4))
    assert batch.has_smpl.tolist() == [True, True, False, True]
    np.testing.assert_allclose(rodrigues(batch.pose[[0, 1, 3]].double().numpy()),  # the same rotations
                               rodrigues(fits[[0, 1, 3], :72].reshape(-1, 24, 3).astype(np.float64)), atol=1e-5)
    torch.testing.assert_close(batch.betas[[0, 1, 3]], torch.from_numpy(fits[[0, 1, 3], 72:]))
    assert (batch.pose[2] == 0).all() and (batch.betas[2] == 0).all()
    pred_rotmat = torch.from_numpy(rodrigues(np.random.default_rng(1).normal(size=(4, 24, 3)))).float()
    pred_betas = torch.randn(4, 10, generator=torch.Generator().manual_seed(1))
    pose, betas = smpl_loss(pred_rotmat, pred_betas, torch.from_numpy(rodrigues(batch.pose.double().numpy())).float(),
                            batch.betas, batch.has_smpl)
    valid = [0, 1, 3]  # the same loss, computed from the fits file alone
    expected_pose = ((pred_rotmat.double().numpy()[valid] - rodrigues(fits[valid, :72].reshape(-1, 24, 3))) ** 2).mean()
    expected_betas = ((pred_betas.double().numpy()[valid] - fits[valid, 72:]) ** 2).mean()
    assert pose.item() == pytest.approx(expected_pose, rel=1e-5)
    assert betas.item() == pytest.approx(expected_betas, rel=1e-5)
    without, _ = stream(tmp_path / "no_fits", body, fits=False)
    assert not without.sample(4).has_smpl.any()  # keypoints only: nothing else to supervise with


def test_fits_follow_flips_and_rotations(tmp_path, body):
    augment = SpinAugment(flip=0.5, rotation_probability=1.0, pixel_noise=0.0)
    real, _ = stream(tmp_path, body, augment=augment, n=6)
    assert real.sample(6).has_smpl.all()  # each augmented fit still explains its augmented keypoints


def test_extreme_betas_become_zero(tmp_path, body):
    check = FitCheck(body, threshold=float("inf"))
    betas = torch.zeros(2, 10)
    betas[0, 3] = 3.5
    valid, kept = check.targets(torch.zeros(2, 24, 3), betas, torch.zeros(2, 49, 3), torch.tensor([False, True]),
                                torch.tensor([True, False]))
    assert (kept[0] == 0).all() and valid.tolist() == [False, True]  # no keypoints: the fit cannot be checked
    assert torch.equal(kept[1], betas[1])  # ground truth is kept as it is


def test_bad_fits_files_are_named(tmp_path, body):
    write_spin_dataset(tmp_path / "d.npz", tmp_path, tmp_path / "d_fits.npy", body, n=3)
    np.save(tmp_path / "short.npy", np.zeros((2, 82)))
    with pytest.raises(DatasetError, match=r"short.npy: has shape \(2, 82\); SPIN's fits of this dataset are \(3, 82"):
        SpinDataset(tmp_path / "d.npz", tmp_path, fits=tmp_path / "short.npy")
    nan = np.zeros((3, 82))
    nan[1, 5] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    with pytest.raises(DatasetError, match="nan.npy: NaN/Inf in the fits, the first in row 1"):
        SpinDataset(tmp_path / "d.npz", tmp_path, fits=tmp_path / "nan.npy")
    (tmp_path / "cut.npy").write_bytes(b"\x93NUMPY garbage")
    with pytest.raises(DatasetError, match="cut.npy: cannot be read as SPIN's fits .npy"):
        SpinDataset(tmp_path / "d.npz", tmp_path, fits=tmp_path / "cut.npy")


def _losses(tmp_path, body, s):
    """The trainer's loss terms on a real-only batch of a dataset whose S is ``s``."""
    write_spin_dataset(tmp_path / "d.npz", tmp_path, tmp_path / "f.npy", body, n=4, with_3d=True)
    arrays = dict(np.load(tmp_path / "d.npz"))
    np.savez(tmp_path / "d.npz", **{**arrays, "S": s})
    augment = SpinAugment(rotation_probability=1.0, pixel_noise=0.0)
    dataset = SpinDataset(tmp_path / "d.npz", tmp_path, size=32, augment=augment, seed=3)
    cfg = load_config(None, ["mocap_spin.backbone=tiny", "mocap_spin.batch_size=4", "mocap_spin.synthetic_fraction=0"])
    torch.manual_seed(0)
    trainer = MocapSpinTrainer(cfg.mocap_spin, body, None, RealImageStream([dataset], 4, CPU, workers=0), CPU,
                               log=lambda m: None)
    trainer.model.eval()
    return trainer.losses(trainer.batch(torch.Generator()))


def test_unannotated_3d_joints_do_not_change_the_losses(tmp_path, body):
    rng = np.random.default_rng(0)
    s = np.concatenate([rng.normal(scale=0.3, size=(4, 24, 3)), np.ones((4, 24, 1))], -1)
    unannotated = [12, 13, 14, 15, 19, 20, 21]
    s[:, unannotated] = 0
    other = s.copy()
    other[:, unannotated, :3] = rng.normal(size=(4, 7, 3))  # other values, still confidence 0
    a, b = _losses(tmp_path / "a", body, s), _losses(tmp_path / "b", body, other)
    assert a["keypoints_3d"] > 0
    for key in a:
        assert torch.equal(a[key], b[key]), key
    other[:, unannotated, 3] = 1  # were they weighted, the two would differ
    assert not torch.equal(_losses(tmp_path / "c", body, other)["keypoints_3d"], a["keypoints_3d"])
