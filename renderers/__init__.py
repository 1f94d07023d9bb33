"""Rasterization on the training device: one entry point, two backends (pytorch3d on CUDA,
pure torch anywhere), pytorch3d's Fragments semantics. Shading and compositing are in
``renderers.shading``, the batch renderer that turns poses into training crops in
``renderers.synthetic``."""

from renderers.rasterize import BACKENDS, pytorch3d_available, rasterize, resolve_backend
from renderers.torch_rasterizer import Fragments

__all__ = ["BACKENDS", "Fragments", "pytorch3d_available", "rasterize", "resolve_backend"]
