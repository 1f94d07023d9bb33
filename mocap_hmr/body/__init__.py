"""The body floor: SMPL layer, joint maps, model-file reading/conversion, stand-in bodies."""

from mocap_hmr.body.body_model import BodyModel, BodyOutput, rest_pelvis
from mocap_hmr.body.joint_maps import (
    H36M_JOINT_NAMES,
    SMPL_JOINT_NAMES,
    SMPL_PARENTS,
    SPIN_JOINT_NAMES,
)
from mocap_hmr.body.model_files import (
    convert_smpl,
    find_model_file,
    load_model_file,
    normalize_gender,
)

__all__ = [
    "BodyModel",
    "BodyOutput",
    "H36M_JOINT_NAMES",
    "SMPL_JOINT_NAMES",
    "SMPL_PARENTS",
    "SPIN_JOINT_NAMES",
    "convert_smpl",
    "find_model_file",
    "load_model_file",
    "normalize_gender",
    "rest_pelvis",
]
