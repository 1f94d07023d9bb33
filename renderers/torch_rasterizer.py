"""A pure-PyTorch z-buffer rasterizer with pytorch3d's ``Fragments`` semantics.

Runs on any device. Each face enumerates the pixel centres inside its bounding box (faces
are sorted by box size and processed in chunks, so memory stays bounded); the nearest
face per pixel is resolved with a scatter-reduce; K faces per pixel by depth peeling.
Barycentrics of the kept faces are recomputed with autograd on, so the output is
differentiable with respect to the vertices through ``bary_coords`` and ``zbuf``, as
pytorch3d's hard rasterizer is.

Camera: vertices are in camera space with OpenCV's axes (x right, y down, z forward, the
camera at the origin); pixel (row i, column j) has its centre at (x, y) = (j + 0.5, i + 0.5)
after the pinhole projection ``x = fx * X / Z + cx``, ``y = fy * Y / Z + cy``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
import torch

from mocap_hmr.geometry.cameras import project


class Fragments(NamedTuple):
    """pytorch3d's rasterizer output, K faces per pixel, nearest first.

    pix_to_face: (N, H, W, K) long, index into the packed faces (face + n * F), -1 where empty;
    zbuf: (N, H, W, K) camera depth, -1 where empty;
    bary_coords: (N, H, W, K, 3) perspective-correct barycentrics, -1 where empty;
    dists: (N, H, W, K) signed squared distance in NDC units from the pixel centre to the
    nearest face edge, negative inside the face, -1 where empty.
    """

    pix_to_face: torch.Tensor
    zbuf: torch.Tensor
    bary_coords: torch.Tensor
    dists: torch.Tensor


def _screen_barycentrics(tri: torch.Tensor, pix: torch.Tensor) -> torch.Tensor:
    """tri: (M, 3, 2) projected corners, pix: (M, 2) points -> (M, 3) screen barycentrics
    (NaN-free: degenerate triangles get an infinite area and fail the inside test)."""
    a, b, c = tri.unbind(1)
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    area = torch.where(area.abs() < 1e-12, torch.full_like(area, float("inf")), area)

    def edge(p, q):
        return (q[:, 0] - p[:, 0]) * (pix[:, 1] - p[:, 1]) - (q[:, 1] - p[:, 1]) * (pix[:, 0] - p[:, 0])

    return torch.stack([edge(b, c), edge(c, a), edge(a, b)], dim=1) / area[:, None]


def _perspective_correct(bary: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Screen barycentrics (M, 3) and corner depths (M, 3) -> (world barycentrics, depth)."""
    w = bary / z
    total = w.sum(1, keepdim=True)
    return w / total, 1.0 / total[:, 0]


def _face_boxes(xy: torch.Tensor, height: int, width: int):
    """Pixel index ranges covered by each face's bounding box. xy: (N, F, 3, 2)."""
    lo = torch.ceil(xy.amin(2) - 0.5).long()
    hi = torch.floor(xy.amax(2) - 0.5).long()
    x0, y0 = lo[..., 0].clamp(min=0), lo[..., 1].clamp(min=0)
    x1, y1 = hi[..., 0].clamp(max=width - 1), hi[..., 1].clamp(max=height - 1)
    return x0, y0, x1 - x0 + 1, y1 - y0 + 1


def _chunks(boxes: np.ndarray, chunk_pixels: int) -> Iterator[tuple[int, int, int, int]]:
    """Consecutive runs of faces whose candidate pixels (faces x the largest box width x the
    largest box height) stay within ``chunk_pixels`` (a run holds one face at least).

    boxes: (2, M) int box widths and heights, on the host: planning here costs one copy from
    the device instead of a synchronisation per comparison. Yields (start, end, wmax, hmax)."""
    widths, heights = boxes
    start, count = 0, widths.shape[0]
    while start < count:
        end, step = start + 1, 1  # grow the run by doubling while it fits
        while end < count:
            nxt = min(end + step, count)
            if (nxt - start) * int(widths[start:nxt].max()) * int(heights[start:nxt].max()) > chunk_pixels:
                break
            end, step = nxt, step * 2
        yield start, end, int(widths[start:end].max()), int(heights[start:end].max())
        start = end


@torch.no_grad()
def _nearest_faces(xy, z, height, width, below, chunk_pixels):
    """One depth-peeling pass: per pixel, the nearest face strictly behind ``below``.

    xy: (N, F, 3, 2); z: (N, F, 3); below: (N*H*W,) depths already taken (-inf at first).
    Returns (N*H*W,) packed face index (-1 none) and its depth (inf none).
    """
    n_batch, n_faces = z.shape[:2]
    x0, y0, bw, bh = _face_boxes(xy, height, width)
    visible = (bw > 0) & (bh > 0) & (z > 1e-6).all(-1)
    batch_idx, face_idx = visible.nonzero(as_tuple=True)
    order = (bw * bh)[batch_idx, face_idx].argsort()
    batch_idx, face_idx = batch_idx[order], face_idx[order]
    n_pix = n_batch * height * width
    best_depth = torch.full((n_pix,), float("inf"), device=z.device, dtype=z.dtype)
    best_face = torch.full((n_pix,), -1, device=z.device, dtype=torch.long)
    box_w, box_h = bw[batch_idx, face_idx], bh[batch_idx, face_idx]
    for start, end, wmax, hmax in _chunks(torch.stack([box_w, box_h]).cpu().numpy(), chunk_pixels):
        b, f = batch_idx[start:end], face_idx[start:end]
        dy, dx = torch.meshgrid(torch.arange(hmax, device=z.device),
                                torch.arange(wmax, device=z.device), indexing="ij")
        dx, dy = dx.reshape(1, -1), dy.reshape(1, -1)
        px, py = x0[b, f][:, None] + dx, y0[b, f][:, None] + dy
        inside_box = (dx < box_w[start:end, None]) & (dy < box_h[start:end, None])
        cand, slot = inside_box.nonzero(as_tuple=True)  # the chunk's one host synchronisation
        px, py = px[cand, slot], py[cand, slot]
        pix = torch.stack([px + 0.5, py + 0.5], dim=1).to(z.dtype)
        bary = _screen_barycentrics(xy[b[cand], f[cand]], pix)
        _, depth = _perspective_correct(bary, z[b[cand], f[cand]])
        linear = (b[cand] * height + py) * width + px
        keep = (bary >= 0).all(1) & (depth > below[linear])
        depth = torch.where(keep, depth, float("inf"))  # masked, not compacted: no synchronisation
        packed = b[cand] * n_faces + f[cand]
        chunk_best = torch.full_like(best_depth, float("inf")).scatter_reduce(0, linear, depth, "amin")
        wins = keep & (depth == chunk_best[linear]) & (depth < best_depth[linear])
        winner = torch.full_like(best_face, -1).scatter_reduce(0, linear, torch.where(wins, packed, -1), "amax")
        improved = winner >= 0
        best_face = torch.where(improved, winner, best_face)
        best_depth = torch.where(improved, chunk_best, best_depth)
    return best_face, best_depth


def rasterize(verts: torch.Tensor, faces: torch.Tensor, focal: torch.Tensor, principal: torch.Tensor,
              image_size: tuple[int, int], faces_per_pixel: int = 1,
              chunk_pixels: int = 1 << 22) -> Fragments:
    """Rasterize a batch of meshes sharing one face list.

    verts: (N, V, 3) camera space (OpenCV axes); faces: (F, 3) long; focal, principal: (N, 2)
    pixels; image_size: (H, W). Returns ``Fragments`` with K = faces_per_pixel.
    """
    height, width = image_size
    n_batch, n_faces = verts.shape[0], faces.shape[0]
    xy = project(verts, focal, principal)
    tri_xy, tri_z = xy[:, faces], verts[:, faces, 2]  # (N, F, 3, 2), (N, F, 3)
    n_pix = n_batch * height * width
    below = torch.full((n_pix,), -float("inf"), device=verts.device, dtype=verts.dtype)
    layers = []
    for _ in range(faces_per_pixel):
        face, depth = _nearest_faces(tri_xy.detach(), tri_z.detach(), height, width, below, chunk_pixels)
        layers.append(face)
        below = torch.where(face >= 0, depth, torch.full_like(depth, float("inf")))
    pix_to_face = torch.stack(layers, dim=1)  # (N*H*W, K)
    zbuf = torch.full(pix_to_face.shape, -1.0, device=verts.device, dtype=verts.dtype)
    bary_out = torch.full((*pix_to_face.shape, 3), -1.0, device=verts.device, dtype=verts.dtype)
    dists = torch.full(pix_to_face.shape, -1.0, device=verts.device, dtype=verts.dtype)
    pix_id, layer = (pix_to_face >= 0).nonzero(as_tuple=True)
    if len(pix_id):
        packed = pix_to_face[pix_id, layer]
        b, f = packed // n_faces, packed % n_faces
        px = (pix_id % width).to(verts.dtype) + 0.5
        py = ((pix_id // width) % height).to(verts.dtype) + 0.5
        pix = torch.stack([px, py], dim=1)
        tri = tri_xy[b, f]
        screen = _screen_barycentrics(tri, pix)
        bary, depth = _perspective_correct(screen, tri_z[b, f])
        ndc_per_px = 2.0 / min(height, width)
        edge_sq = _edge_distance_sq(tri, pix) * ndc_per_px**2
        zbuf = zbuf.index_put((pix_id, layer), depth)
        bary_out = bary_out.index_put((pix_id, layer), bary)
        dists = dists.index_put((pix_id, layer), -edge_sq)
    shape = (n_batch, height, width, faces_per_pixel)
    return Fragments(pix_to_face.reshape(shape), zbuf.reshape(shape),
                     bary_out.reshape(*shape, 3), dists.reshape(shape))


def _edge_distance_sq(tri: torch.Tensor, pix: torch.Tensor) -> torch.Tensor:
    """Squared distance (pixels^2) from each point (M, 2) to the nearest edge of its triangle."""
    a = tri
    b = tri.roll(-1, dims=1)
    ab = b - a
    ap = pix[:, None] - a
    t = ((ap * ab).sum(-1) / (ab * ab).sum(-1).clamp(min=1e-12)).clamp(0, 1)
    closest = a + t[..., None] * ab
    return ((pix[:, None] - closest) ** 2).sum(-1).amin(1)
