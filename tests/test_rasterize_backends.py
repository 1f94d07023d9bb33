"""The rasterize entry point: argument forms and backend choice (the two backends' agreement
is in test_pytorch3d_agreement.py)."""

import pytest
import torch

from renderers import pytorch3d_available, rasterize, resolve_backend


def _scene(batch=2):
    gen = torch.Generator().manual_seed(0)
    verts = torch.rand(batch, 60, 3, generator=gen) * torch.tensor([1.0, 1.0, 0.5]) + torch.tensor([-0.5, -0.5, 2.0])
    faces = torch.randint(0, 60, (40, 3), generator=gen)
    return verts, faces


def test_argument_forms_agree():
    verts, faces = _scene()
    a = rasterize(verts, faces, 32, 40.0, backend="torch")
    b = rasterize(verts, faces, (32, 32), torch.tensor([40.0, 40.0]), principal_point=(16.0, 16.0), backend="torch")
    c = rasterize(verts, faces, 32, torch.full((2, 2), 40.0), principal_point=torch.full((2, 2), 16.0),
                  backend="torch")
    assert torch.equal(a.pix_to_face, b.pix_to_face) and torch.equal(a.pix_to_face, c.pix_to_face)
    assert a.pix_to_face.shape == (2, 32, 32, 1) and (a.pix_to_face >= 0).any()


def test_non_square_rows_follow_y():
    verts = torch.tensor([[[-0.1, 0.2, 1.0], [0.1, 0.2, 1.0], [0.0, 0.4, 1.0]]])  # below the centre (y down)
    frags = rasterize(verts, torch.tensor([[0, 1, 2]]), (40, 20), 50.0, backend="torch")
    rows = (frags.pix_to_face[0, :, :, 0] >= 0).nonzero()[:, 0]
    assert rows.min() >= 20  # lower half of a 40-row image


def test_backend_choice():
    assert resolve_backend("auto", torch.device("cpu")) == "torch"
    with pytest.raises(ValueError, match="not one of auto, torch, pytorch3d"):
        resolve_backend("opengl", torch.device("cpu"))
    if pytorch3d_available():
        assert resolve_backend("pytorch3d", torch.device("cpu")) == "pytorch3d"  # its CPU kernel, on request
    else:
        with pytest.raises(ValueError, match="pytorch3d does not import here"):
            resolve_backend("pytorch3d", torch.device("cpu"))
