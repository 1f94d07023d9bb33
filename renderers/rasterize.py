"""One rasterization entry point, two backends: pytorch3d (for CUDA; its CPU kernel runs too,
slowly) and pure torch (any device). Both give the same fragments (tests/test_pytorch3d_agreement.py).

Camera: vertices in camera space with OpenCV's axes (x right, y down, z forward, metres);
focal length and principal point in pixels; continuous pixel coordinates, so pixel (row i,
column j) covers [j, j + 1) x [i, i + 1) and has its centre at (j + 0.5, i + 0.5); the
principal point defaults to the image centre (W / 2, H / 2).
"""

from __future__ import annotations

import functools

import torch

from mocap_hmr.choices import BACKENDS
from renderers.torch_rasterizer import Fragments
from renderers.torch_rasterizer import rasterize as rasterize_torch


@functools.cache
def pytorch3d_available() -> bool:
    """Whether pytorch3d and its compiled extension import here."""
    try:
        from pytorch3d import _C  # noqa: F401
    except (ImportError, OSError):
        return False
    return True


def resolve_backend(backend: str, device: torch.device) -> str:
    """'auto' -> 'pytorch3d' when it imports and ``device`` is CUDA, else 'torch'."""
    if backend not in BACKENDS:
        raise ValueError(f"rasterizer backend '{backend}' is not one of {', '.join(BACKENDS)}")
    if backend == "auto":
        return "pytorch3d" if device.type == "cuda" and pytorch3d_available() else "torch"
    if backend == "pytorch3d" and not pytorch3d_available():
        raise ValueError("rasterizer backend 'pytorch3d' asked for, but pytorch3d does not import here; "
                         "install pytorch3d (the pytorch3d extra) or use backend='torch'")
    return backend


def _focal(value, batch: int, like: torch.Tensor) -> torch.Tensor:
    """A float, (B,) or (B, 2) focal length as (B, 2)."""
    value = torch.as_tensor(value, dtype=like.dtype, device=like.device)
    return (value[..., None] if value.dim() == 1 else value).expand(batch, 2)


def _principal(value, batch: int, like: torch.Tensor) -> torch.Tensor:
    """A (2,) or (B, 2) principal point as (B, 2)."""
    return torch.as_tensor(value, dtype=like.dtype, device=like.device).expand(batch, 2)


def rasterize(verts: torch.Tensor, faces: torch.Tensor, image_size: int | tuple[int, int], focal_length,
              principal_point=None, backend: str = "auto", faces_per_pixel: int = 1) -> Fragments:
    """verts (B, V, 3) camera space; faces (F, 3); image_size S or (H, W); focal_length a
    float, (B,) or (B, 2) pixels; principal_point None, (2,) or (B, 2) pixels.
    Returns ``Fragments`` with (B, H, W, K) fields, pytorch3d's semantics."""
    height, width = (image_size, image_size) if isinstance(image_size, int) else image_size
    batch = verts.shape[0]
    focal = _focal(focal_length, batch, verts)
    principal = _principal((width / 2, height / 2) if principal_point is None else principal_point, batch, verts)
    if resolve_backend(backend, verts.device) == "pytorch3d":
        return _rasterize_pytorch3d(verts, faces, (height, width), focal, principal, faces_per_pixel)
    return rasterize_torch(verts, faces, focal, principal, (height, width), faces_per_pixel)


def _rasterize_pytorch3d(verts, faces, image_size, focal, principal, faces_per_pixel) -> Fragments:
    """pytorch3d's MeshRasterizer with a screen-space ``PerspectiveCameras`` of the same intrinsics.
    verts (B, V, 3); faces (F, 3); image_size (H, W); focal, principal (B, 2) pixels.

    pytorch3d's screen space has its origin at the top-left corner of the top-left pixel and
    pixel centres at half-integers, as here, so focal length and principal point pass
    unchanged (``in_ndc=False``). Its camera axes are x left, y up, z forward: the rotation
    diag(-1, -1, 1) takes OpenCV's camera axes there and keeps z, which is the depth zbuf
    holds. pytorch3d maps the shorter image side to NDC [-1, 1], the same unit as the torch
    backend's ``dists``. No culling, no clipping, hard edges (blur_radius 0). On the CPU
    pytorch3d rasterizes naively (every face against every pixel); on CUDA it bins, and all
    faces may share a bin (max_faces_per_bin = F), so no bin overflows."""
    from pytorch3d.renderer import MeshRasterizer, PerspectiveCameras, RasterizationSettings
    from pytorch3d.structures import Meshes

    batch, height, width = verts.shape[0], *image_size
    to_pytorch3d = torch.diag(torch.tensor([-1.0, -1.0, 1.0], dtype=verts.dtype, device=verts.device))
    cameras = PerspectiveCameras(
        focal_length=focal, principal_point=principal, R=to_pytorch3d.expand(batch, 3, 3),
        T=torch.zeros(batch, 3, dtype=verts.dtype, device=verts.device), in_ndc=False,
        image_size=torch.tensor([[height, width]], device=verts.device).expand(batch, 2), device=verts.device,
    )
    settings = RasterizationSettings(image_size=(height, width), blur_radius=0.0, faces_per_pixel=faces_per_pixel,
                                     max_faces_per_bin=int(faces.shape[0]), perspective_correct=True,
                                     clip_barycentric_coords=False, cull_backfaces=False)
    meshes = Meshes(verts=verts, faces=faces[None].expand(batch, -1, -1))
    frags = MeshRasterizer(cameras=cameras, raster_settings=settings)(meshes)
    return Fragments(frags.pix_to_face, frags.zbuf, frags.bary_coords, frags.dists)
