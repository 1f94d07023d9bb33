"""SMPL motion out to the formats animation tools read: BVH (``bvh.py``) and binary glTF
(``gltf.py``), from any predictions file ``mocap-hmr smooth`` reads (``motion.py``)."""

from mocap_hmr.export.bvh import write_bvh
from mocap_hmr.export.gltf import write_glb
from mocap_hmr.export.motion import Motion, motion_from_file, rest_skeleton

__all__ = ["Motion", "motion_from_file", "rest_skeleton", "write_bvh", "write_glb"]
