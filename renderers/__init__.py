"""Rasterization on the training device: one entry point, two backends (pytorch3d on CUDA,
pure torch anywhere), pytorch3d's Fragments semantics. Shading, compositing and the batch
renderer come with the rest of issue 4."""

from renderers.rasterize import BACKENDS, pytorch3d_available, rasterize, resolve_backend
from renderers.torch_rasterizer import Fragments

__all__ = ["BACKENDS", "Fragments", "pytorch3d_available", "rasterize", "resolve_backend"]
