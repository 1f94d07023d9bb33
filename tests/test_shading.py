"""Shading on Fragments: texture lookup, Lambert light, compositing, and gradients that
reach the vertices and the texture (gradcheck in float64 on a tiny mesh)."""

import torch

from renderers import rasterize
from renderers.shading import composite, face_normals, lambert, sample_texture

# One quad facing the camera at depth 2, covering the middle of a 16 px image (focal 16):
# camera x = 8 * X + 8, so X in [-0.6, 0.6] covers pixels 3.2 .. 12.8.
VERTS = torch.tensor([[[-0.6, -0.6, 2.0], [0.6, -0.6, 2.0], [0.6, 0.6, 2.0], [-0.6, 0.6, 2.0]]], dtype=torch.float64)
FACES = torch.tensor([[0, 1, 2], [0, 2, 3]])
VT = torch.tensor([[0.0, 1.0], [1.0, 1.0], [1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)  # top row at v = 1


def render(verts, texture, light):
    frags = rasterize(verts, FACES, 16, 16.0, backend="torch")
    albedo = sample_texture(frags, texture, VT, FACES)
    shade = lambert(frags, face_normals(verts, FACES), light, torch.tensor([0.3], dtype=verts.dtype),
                    torch.tensor([0.7], dtype=verts.dtype))
    image, alpha = composite(albedo * shade, frags, torch.zeros(1, 3, 16, 16, dtype=verts.dtype))
    return image, alpha, frags


def test_texture_lookup_is_bilinear_in_uv():
    texture = torch.zeros(1, 3, 2, 2, dtype=torch.float64)
    texture[0, 0] = torch.tensor([[1.0, 0.0], [0.0, 0.0]])  # red in the top-left texel (u < .5, v > .5)
    image, alpha, frags = render(VERTS, texture, torch.tensor([[0.0, 0.0, -1.0]], dtype=torch.float64))
    assert alpha[0, 0, 4, 4] == 1 and alpha[0, 0, 0, 0] == 0 and alpha.sum() == 100  # 10 x 10 pixel centres
    # the quad's top-left corner (image top-left: x right, y down) maps to u = 0, v = 1
    assert image[0, 0, 4, 4] > 0.9 and image[0, 0, 11, 11] < 0.1
    # bilinear: the red channel along the middle row falls monotonically from left to right
    row = image[0, 0, 8, 4:12]
    assert (row[1:] <= row[:-1] + 1e-12).all() and row[0] > row[-1]


def test_lambert_and_composite_values():
    texture = torch.ones(1, 3, 4, 4, dtype=torch.float64)
    head_on, _, _ = render(VERTS, texture, torch.tensor([[0.0, 0.0, -1.0]], dtype=torch.float64))
    assert torch.allclose(head_on[0, :, 8, 8], torch.tensor(1.0, dtype=torch.float64))  # 0.3 + 0.7 * 1
    grazing, _, _ = render(VERTS, texture, torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64))
    assert torch.allclose(grazing[0, :, 8, 8], torch.tensor(0.3, dtype=torch.float64))  # ambient only
    assert (grazing[0, :, 0, 0] == 0).all()  # background


def test_gradients_reach_vertices_and_texture():
    gen = torch.Generator().manual_seed(0)
    texture = torch.rand(1, 3, 4, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    verts = (VERTS + 0.01 * torch.randn(VERTS.shape, generator=gen, dtype=torch.float64)).requires_grad_(True)
    light = torch.nn.functional.normalize(torch.tensor([[0.3, -0.2, -1.0]], dtype=torch.float64), dim=-1)

    def pixels(v, t):
        return render(v, t, light)[0][..., 5:11, 5:11]  # inside the quad: coverage does not change

    assert torch.autograd.gradcheck(pixels, (verts, texture), eps=1e-6, atol=1e-5)
