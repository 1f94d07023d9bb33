"""Geometry: rotations (axis-angle, 6D, matrices); cameras and Procrustes come with later issues."""

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
    "axis_angle_to_matrix",
    "axis_angle_to_rot6d",
    "matrix_to_axis_angle",
    "matrix_to_quaternion",
    "matrix_to_rot6d",
    "quaternion_to_axis_angle",
    "rot6d_to_axis_angle",
    "rot6d_to_matrix",
]
