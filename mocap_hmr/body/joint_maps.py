"""Joint names and index maps: SMPL's 24 joints, SPIN's 49 joints, H36M's 17 joints."""

SMPL_JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
)
SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)

# Joints taken from single mesh vertices, in the order smplx's VertexJointSelector appends
# them after the 24 SMPL joints (with use_hands=False): indices 24..34.
VERTEX_JOINT_NAMES = (
    "nose", "reye", "leye", "rear", "lear",
    "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
)

# Rows of SPIN's J_regressor_extra.npy (9, V), in order.
EXTRA_REGRESSOR_NAMES = (
    "Right Hip", "Left Hip", "Neck (LSP)", "Top of Head (LSP)", "Pelvis (MPII)",
    "Thorax (MPII)", "Spine (H36M)", "Jaw (H36M)", "Head (H36M)",
)

# Rows of SPIN's J_regressor_h36m.npy (17, V), in order.
# The rows of SPIN's J_regressor_h36m.npy, by the side of the body they sit on: the legs are
# left then right (SPIN's H36M_TO_J14 reads LSP's left hip from row 1; naver/posebert and
# mmhuman3d name row 1 left_hip), although Human3.6M's own labels call rows 1-3 the right leg.
H36M_JOINT_NAMES = (
    "pelvis", "left_hip", "left_knee", "left_ankle", "right_hip", "right_knee", "right_ankle",
    "spine", "thorax", "neck_nose", "head_top", "left_shoulder", "left_elbow", "left_wrist",
    "right_shoulder", "right_elbow", "right_wrist",
)

# SPIN's 49 joints (constants.JOINT_NAMES): 25 OpenPose joints, then 24 ground-truth joints.
SPIN_JOINT_NAMES = (
    "OP Nose", "OP Neck", "OP RShoulder", "OP RElbow", "OP RWrist", "OP LShoulder", "OP LElbow",
    "OP LWrist", "OP MidHip", "OP RHip", "OP RKnee", "OP RAnkle", "OP LHip", "OP LKnee",
    "OP LAnkle", "OP REye", "OP LEye", "OP REar", "OP LEar", "OP LBigToe", "OP LSmallToe",
    "OP LHeel", "OP RBigToe", "OP RSmallToe", "OP RHeel",
    "Right Ankle", "Right Knee", "Right Hip", "Left Hip", "Left Knee", "Left Ankle",
    "Right Wrist", "Right Elbow", "Right Shoulder", "Left Shoulder", "Left Elbow", "Left Wrist",
    "Neck (LSP)", "Top of Head (LSP)", "Pelvis (MPII)", "Thorax (MPII)", "Spine (H36M)",
    "Jaw (H36M)", "Head (H36M)", "Nose", "Left Eye", "Right Eye", "Left Ear", "Right Ear",
)

_J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
_V = {name: 24 + i for i, name in enumerate(VERTEX_JOINT_NAMES)}
_X = {name: 24 + len(VERTEX_JOINT_NAMES) + i for i, name in enumerate(EXTRA_REGRESSOR_NAMES)}

# Where each SPIN joint comes from in the concatenation
# [24 SMPL joints | 11 vertex joints | 9 extra-regressor joints] (44 rows).
_SPIN_SOURCE = {
    "OP Nose": _V["nose"], "OP Neck": _J["neck"], "OP RShoulder": _J["right_shoulder"],
    "OP RElbow": _J["right_elbow"], "OP RWrist": _J["right_wrist"],
    "OP LShoulder": _J["left_shoulder"], "OP LElbow": _J["left_elbow"],
    "OP LWrist": _J["left_wrist"], "OP MidHip": _J["pelvis"], "OP RHip": _J["right_hip"],
    "OP RKnee": _J["right_knee"], "OP RAnkle": _J["right_ankle"], "OP LHip": _J["left_hip"],
    "OP LKnee": _J["left_knee"], "OP LAnkle": _J["left_ankle"], "OP REye": _V["reye"],
    "OP LEye": _V["leye"], "OP REar": _V["rear"], "OP LEar": _V["lear"],
    "OP LBigToe": _V["LBigToe"], "OP LSmallToe": _V["LSmallToe"], "OP LHeel": _V["LHeel"],
    "OP RBigToe": _V["RBigToe"], "OP RSmallToe": _V["RSmallToe"], "OP RHeel": _V["RHeel"],
    "Right Ankle": _J["right_ankle"], "Right Knee": _J["right_knee"],
    "Right Hip": _X["Right Hip"], "Left Hip": _X["Left Hip"], "Left Knee": _J["left_knee"],
    "Left Ankle": _J["left_ankle"], "Right Wrist": _J["right_wrist"],
    "Right Elbow": _J["right_elbow"], "Right Shoulder": _J["right_shoulder"],
    "Left Shoulder": _J["left_shoulder"], "Left Elbow": _J["left_elbow"],
    "Left Wrist": _J["left_wrist"], "Neck (LSP)": _X["Neck (LSP)"],
    "Top of Head (LSP)": _X["Top of Head (LSP)"], "Pelvis (MPII)": _X["Pelvis (MPII)"],
    "Thorax (MPII)": _X["Thorax (MPII)"], "Spine (H36M)": _X["Spine (H36M)"],
    "Jaw (H36M)": _X["Jaw (H36M)"], "Head (H36M)": _X["Head (H36M)"], "Nose": _V["nose"],
    "Left Eye": _V["leye"], "Right Eye": _V["reye"], "Left Ear": _V["lear"],
    "Right Ear": _V["rear"],
}
SPIN_JOINT_SOURCES = tuple(_SPIN_SOURCE[name] for name in SPIN_JOINT_NAMES)


def _mirror_name(name: str) -> str:
    """The name of the joint on the other side ('Left Hip' <-> 'Right Hip', 'OP LEye' <->
    'OP REye', 'left_knee' <-> 'right_knee'); names on the midline map to themselves."""
    for a, b in (("Left", "Right"), ("left", "right"), ("OP L", "OP R")):
        if a in name:
            return name.replace(a, b)
        if b in name:
            return name.replace(b, a)
    return name


def flip_permutation(names: tuple[str, ...]) -> tuple[int, ...]:
    """Index of each joint's mirror image, for flipping images left-right."""
    return tuple(names.index(_mirror_name(n)) for n in names)


SMPL_FLIP_PERM = flip_permutation(SMPL_JOINT_NAMES)
SPIN_FLIP_PERM = flip_permutation(SPIN_JOINT_NAMES)
