"""The AMASS Z-up -> SMPL Y-up change of frame: posing the body in the new frame gives the
old frame's vertices turned by the rotation, which needs the turn about the rest pelvis J0."""

import numpy as np
import torch
from amass_files import write_amass

from mocap_hmr.body import BodyModel, rest_pelvis
from mocap_hmr.data.amass import load_amass_npz
from mocap_hmr.geometry.frames import ZUP_TO_YUP, yup_to_zup, yup_translation, zup_to_yup


def _scene(tiny_body_dir, n=4):
    body = BodyModel(tiny_body_dir).double()
    gen = torch.Generator().manual_seed(0)
    pose = 0.4 * torch.randn(n, 24, 3, generator=gen, dtype=torch.float64)
    betas = torch.randn(n, 10, generator=gen, dtype=torch.float64)
    trans = torch.randn(n, 3, generator=gen, dtype=torch.float64)
    return body, pose, betas, trans


def test_turning_the_body_equals_posing_it_in_the_new_frame(tiny_body_dir):
    body, pose, betas, trans = _scene(tiny_body_dir)
    zup = body(pose, betas, trans).vertices
    pelvis = rest_pelvis(body, betas).double()
    root, moved = zup_to_yup(pose[:, 0], trans, pelvis)
    yup = body(torch.cat([root[:, None], pose[:, 1:]], 1), betas, moved).vertices
    torch.testing.assert_close(yup, zup @ ZUP_TO_YUP.T, atol=1e-9, rtol=0)
    _, back = yup_to_zup(root, moved, pelvis)
    torch.testing.assert_close(back, trans)
    # the vector rotation alone misses (R - I) J0: every body lands elsewhere
    _, as_vector = zup_to_yup(pose[:, 0], trans)
    off = body(torch.cat([root[:, None], pose[:, 1:]], 1), betas, as_vector).vertices - zup @ ZUP_TO_YUP.T
    assert (off.norm(dim=-1).amin(-1) > 1e-3).all()


def test_the_loaders_translation_completes_for_the_body_in_use(tmp_path, tiny_body_dir):
    body = BodyModel(tiny_body_dir).double()
    rng = np.random.default_rng(1)
    poses = rng.normal(scale=0.3, size=(5, 156))
    trans, betas = rng.normal(size=(5, 3)), rng.normal(size=16)
    motion = load_amass_npz(write_amass(tmp_path / "a.npz", n_frames=5, poses=poses, trans=trans, betas=betas),
                            fps=None)
    b = torch.from_numpy(motion["betas"]).double().expand(5, -1)
    pelvis = rest_pelvis(body, b).double()
    exact = yup_translation(torch.from_numpy(motion["trans"]).double(), pelvis)
    zup_pose = torch.from_numpy(motion["poses"]).double().clone()
    zup_pose[:, 0] = torch.from_numpy(poses[:, :3])
    zup = body(zup_pose, b, torch.from_numpy(trans)).vertices
    yup = body(torch.from_numpy(motion["poses"]).double(), b, exact).vertices
    torch.testing.assert_close(yup, zup @ ZUP_TO_YUP.T, atol=1e-5, rtol=0)  # the loader stores float32
