"""The pure-torch rasterizer against closed forms: coverage, depth order, peeling, gradients."""

import numpy as np
import torch

from renderers.torch_rasterizer import rasterize


def _camera(n=1, f=10.0, c=8.0):
    return torch.full((n, 2), f), torch.full((n, 2), c)


def test_triangle_coverage_matches_half_plane_test():
    # at depth 10 with focal 10, camera x = X + 8: a right triangle with corners at
    # pixel coordinates (2, 2), (12, 2), (2, 12)
    verts = torch.tensor([[[-6.0, -6.0, 10.0], [4.0, -6.0, 10.0], [-6.0, 4.0, 10.0]]])
    faces = torch.tensor([[0, 1, 2]])
    frags = rasterize(verts, faces, *_camera(), (16, 16))
    ys, xs = torch.meshgrid(torch.arange(16) + 0.5, torch.arange(16) + 0.5, indexing="ij")
    expected = (xs >= 2) & (ys >= 2) & (xs + ys <= 14)
    assert torch.equal(frags.pix_to_face[0, :, :, 0] >= 0, expected)
    hit = frags.pix_to_face[0, :, :, 0] == 0
    assert torch.allclose(frags.zbuf[0, :, :, 0][hit], torch.tensor(10.0))
    bary = frags.bary_coords[0, :, :, 0][hit]
    assert torch.allclose(bary.sum(-1), torch.tensor(1.0))
    # barycentrics interpolate the corners back to the pixel centre
    corners = torch.tensor([[2.0, 2.0], [12.0, 2.0], [2.0, 12.0]])
    torch.testing.assert_close(bary @ corners, torch.stack([xs[hit], ys[hit]], -1))
    assert (frags.dists[0, :, :, 0][hit] <= 0).all()
    assert (frags.zbuf[0, :, :, 0][~hit] == -1).all() and (frags.bary_coords[0][~hit] == -1).all()


def test_nearest_face_wins_and_peeling_gives_the_next():
    near = [[-6.0, -6.0, 5.0], [6.0, -6.0, 5.0], [0.0, 6.0, 5.0]]
    far = [[-6.0, -6.0, 20.0], [6.0, -6.0, 20.0], [0.0, 6.0, 20.0]]
    far = [[x * 4, y * 4, z] for x, y, z in far]  # same screen footprint, 4 times further
    verts = torch.tensor([far + near])
    faces = torch.tensor([[0, 1, 2], [3, 4, 5]])
    frags = rasterize(verts, faces, *_camera(), (16, 16), faces_per_pixel=2)
    centre = frags.pix_to_face[0, 8, 8]
    assert centre.tolist() == [1, 0]
    torch.testing.assert_close(frags.zbuf[0, 8, 8], torch.tensor([5.0, 20.0]))


def test_batch_faces_are_packed_and_perspective_depth_is_exact():
    # a plane tilted in depth: z = 10 + X; perspective-correct depth along the centre row
    verts = torch.tensor([[[-5.0, -5.0, 5.0], [5.0, -5.0, 15.0], [5.0, 5.0, 15.0], [-5.0, 5.0, 5.0]]])
    verts = verts.expand(2, -1, -1).clone()
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]])
    frags = rasterize(verts, faces, *_camera(2, f=8.0), (16, 16))
    assert set(frags.pix_to_face[1].unique().tolist()) <= {-1, 2, 3}
    hit = frags.pix_to_face[0, ..., 0] >= 0
    xs = torch.arange(16) + 0.5
    # a ray through pixel x hits X = (x - 8) / 8 * Z on the plane Z = 10 + X -> Z = 10 / (1 - (x-8)/8)
    expected = 10.0 / (1 - (xs - 8.0) / 8.0)
    row = frags.zbuf[0, 8, :, 0]
    torch.testing.assert_close(row[hit[8]], expected[hit[8]], rtol=1e-4, atol=1e-4)


def test_gradient_flows_to_vertices_through_barycentrics():
    verts = torch.tensor([[[-6.0, -6.0, 10.0], [4.0, -6.0, 10.0], [-6.0, 4.0, 12.0]]], requires_grad=True)
    frags = rasterize(verts, torch.tensor([[0, 1, 2]]), *_camera(), (16, 16))
    hit = frags.pix_to_face >= 0
    (frags.zbuf[hit].sum() + frags.bary_coords[..., 0][hit].sum()).backward()
    assert verts.grad is not None and verts.grad.abs().sum() > 0


def test_small_chunks_give_the_same_result():
    gen = torch.Generator().manual_seed(0)
    scale, shift = torch.tensor([10.0, 10.0, 5.0]), torch.tensor([-5.0, -5.0, 8.0])
    verts = torch.rand(2, 60, 3, generator=gen) * scale + shift
    faces = torch.randint(0, 60, (80, 3), generator=gen)
    a = rasterize(verts, faces, *_camera(2), (16, 16), faces_per_pixel=3)
    b = rasterize(verts, faces, *_camera(2), (16, 16), faces_per_pixel=3, chunk_pixels=64)
    assert torch.equal(a.pix_to_face, b.pix_to_face)
    torch.testing.assert_close(a.zbuf, b.zbuf)


def test_build_body_preview_png(tmp_path):
    from mocap_hmr.cli import main
    from mocap_hmr.imageio import read_image

    png = tmp_path / "preview.png"
    assert main(["build-body", "--tiny", "--out", str(tmp_path / "tiny"), "--preview", str(png)]) == 0
    image = read_image(png)
    height, width = image.shape[:2]
    assert 3 * 256 <= width < 3 * 256 * 1.3 and 2 * 256 <= height < 2 * 256 * 1.3  # 2 x 3 panels, labelled
    body_pixels = (image < 250).any(-1)
    # every panel (each a third of the width after the row labels, half the height) shows a body, none is all body
    left = width - 3 * 256
    for r in range(2):
        for c in range(3):
            share = body_pixels[height - (2 - r) * 256:height - (1 - r) * 256,
                                left + c * 256:left + (c + 1) * 256].mean()
            assert 0.02 < share < 0.5


def brute_force(verts, faces, focal, principal, height, width, k):
    """Float64 reference: every face against every pixel centre; nearest k faces per pixel."""
    verts, faces = verts.double().numpy(), faces.numpy()
    n_faces = len(faces)
    pix_to_face = -np.ones((len(verts), height, width, k), dtype=np.int64)
    zbuf = -np.ones((len(verts), height, width, k))
    bary_out = -np.ones((len(verts), height, width, k, 3))
    for b in range(len(verts)):
        xy = verts[b, :, :2] / verts[b, :, 2:] * focal[b].numpy() + principal[b].numpy()
        for i in range(height):
            for j in range(width):
                p = np.array([j + 0.5, i + 0.5])
                hits = []
                for f, (a, c, d) in enumerate(faces):
                    z = verts[b, [a, c, d], 2]
                    if (z <= 1e-6).any():
                        continue
                    t = xy[[a, c, d]]
                    area = (t[1, 0] - t[0, 0]) * (t[2, 1] - t[0, 1]) - (t[1, 1] - t[0, 1]) * (t[2, 0] - t[0, 0])
                    if abs(area) < 1e-12:
                        continue
                    w = [((t[(m + 2) % 3, 0] - t[(m + 1) % 3, 0]) * (p[1] - t[(m + 1) % 3, 1])
                          - (t[(m + 2) % 3, 1] - t[(m + 1) % 3, 1]) * (p[0] - t[(m + 1) % 3, 0])) / area
                         for m in range(3)]
                    w = np.array(w)
                    if (w < 0).any():
                        continue
                    persp = w / z / (w / z).sum()
                    hits.append((1.0 / (w / z).sum(), b * n_faces + f, persp))
                for slot, (depth, face, persp) in enumerate(sorted(hits)[:k]):
                    pix_to_face[b, i, j, slot], zbuf[b, i, j, slot], bary_out[b, i, j, slot] = face, depth, persp
    return pix_to_face, zbuf, bary_out


def test_matches_brute_force_float64_reference():
    gen = torch.Generator().manual_seed(7)
    n, f, height, width, k = 2, 10, 12, 14, 3
    centres = torch.rand(n, f, 1, 3, generator=gen, dtype=torch.float64) * torch.tensor([8.0, 8.0, 6.0]) \
        + torch.tensor([-4.0, -4.0, 6.0], dtype=torch.float64)
    verts = (centres + torch.randn(n, f, 3, 3, generator=gen, dtype=torch.float64) * 2.5).reshape(n, 3 * f, 3)
    faces = torch.arange(3 * f).reshape(f, 3)
    focal = torch.full((n, 2), 9.0, dtype=torch.float64)
    principal = torch.tensor([[7.0, 6.0], [6.5, 6.2]], dtype=torch.float64)
    frags = rasterize(verts, faces, focal, principal, (height, width), faces_per_pixel=k)
    ref_face, ref_z, ref_bary = brute_force(verts, faces, focal, principal, height, width, k)
    assert (ref_face[..., 0] >= 0).mean() > 0.2 and (ref_face[..., 1] >= 0).any()  # overlapping faces
    np.testing.assert_array_equal(frags.pix_to_face.numpy(), ref_face)
    np.testing.assert_allclose(frags.zbuf.numpy(), ref_z, atol=1e-9)
    np.testing.assert_allclose(frags.bary_coords.numpy(), ref_bary, atol=1e-9)
