"""Geometry: rotations (axis-angle, 6D, matrices), cameras and projections (``cameras``),
the Z-up/Y-up change of frame (``frames``) and similarity Procrustes. Imports nothing of
the project above it."""

from mocap_hmr.geometry.procrustes import procrustes_align, similarity_transform
from mocap_hmr.geometry.rotations import (
    axis_angle_to_matrix,
    axis_angle_to_rot6d,
    matrix_to_axis_angle,
    matrix_to_quaternion,
    matrix_to_rot6d,
    quaternion_to_axis_angle,
    rot6d_to_axis_angle,
    rot6d_to_matrix,
)

__all__ = [
    "procrustes_align",
    "similarity_transform",
    "axis_angle_to_matrix",
    "axis_angle_to_rot6d",
    "matrix_to_axis_angle",
    "matrix_to_quaternion",
    "matrix_to_rot6d",
    "quaternion_to_axis_angle",
    "rot6d_to_axis_angle",
    "rot6d_to_matrix",
]
