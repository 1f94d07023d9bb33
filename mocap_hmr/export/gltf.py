"""Binary glTF (``.glb``) of SMPL motion: the skinned body mesh, its skeleton and the animation,
for Blender, three.js, game engines and web viewers.

What the file holds: one mesh (the body's rest shape with the motion's betas, its triangles;
glTF's metres, Y up, like SMPL), a skin over 24 joint nodes named after SMPL's joints (each
node translated from its parent by the rest offset, the root at the rest pelvis; inverse bind
matrices: the rest joint positions, negated, SMPL's rest frames being the identity), and one
animation: every joint's local rotation per frame (quaternions, linear interpolation) and
the root's translation (rest pelvis + the motion's translation), at times frame / fps.

Skinning is linear blend skinning with each vertex's 4 largest SMPL weights, renormalised to
sum to 1 (the 4 influences that three.js and every glTF viewer read). What it leaves out:
SMPL's pose blend shapes (pose correctives; glTF has no pose-driven morphs), so with real
SMPL the posed mesh differs from SMPL's by them (mostly at elbows, knees and shoulders); the
stand-in body has none.

Written with ``pygltflib`` (pure Python, maintained, spec-complete for glTF 2.0 JSON and the
GLB container; the binary buffer is laid out here with numpy); read back in the tests with
``trimesh`` and with ``pygltflib``'s parser.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from mocap_hmr.atomic import atomic_path
from mocap_hmr.body import SMPL_JOINT_NAMES, SMPL_PARENTS, BodyModel
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.export.motion import Motion

INFLUENCES = 4


def _pygltflib():
    try:
        import pygltflib
    except ImportError as exc:
        raise MocapHMRError("writing .glb needs pygltflib: pip install 'mocap-hmr[export]' (or pip install "
                            "pygltflib)") from exc
    return pygltflib


def skin_weights(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(V, 24) SMPL weights -> the 4 largest per vertex: joints (V, 4) uint8 and weights (V, 4)
    float32 summing to 1."""
    joints = np.argsort(-weights, axis=1)[:, :INFLUENCES]
    kept = np.take_along_axis(weights, joints, 1).astype(np.float64)
    kept /= kept.sum(1, keepdims=True)
    return joints.astype(np.uint8), kept.astype(np.float32)


def write_glb(path: str | os.PathLike, motion: Motion, body: BodyModel) -> Path:
    """Write ``motion`` on ``body`` as a binary glTF at ``path`` (atomically); returns the path."""
    g = _pygltflib()
    betas = None if motion.betas is None else motion.betas[None, : body.num_betas]
    with torch.no_grad():
        rest = body(torch.zeros(1, 24, 3), betas)
    verts = rest.vertices[0].numpy().astype(np.float32)
    rest_joints = rest.joints[0].double().numpy()
    faces = body.faces.numpy().astype(np.uint32)
    joints, weights = skin_weights(body.smpl.lbs_weights.detach().numpy())
    inverse_bind = np.tile(np.eye(4), (24, 1, 1))
    inverse_bind[:, :3, 3] = -rest_joints
    n = motion.rotations.shape[0]
    times = (np.arange(n) / motion.fps).astype(np.float32)
    quats = Rotation.from_matrix(motion.rotations.double().numpy().reshape(-1, 3, 3)).as_quat()  # x, y, z, w
    quats = quats.reshape(n, 24, 4).astype(np.float32)
    root = (rest_joints[0] + motion.transl.double().numpy()).astype(np.float32)

    blob, views, accessors = bytearray(), [], []

    def add(array: np.ndarray, kind: str, component: int, target: int | None = None, bounds: bool = False) -> int:
        while len(blob) % 4:
            blob.append(0)
        data = np.ascontiguousarray(array)
        views.append(g.BufferView(buffer=0, byteOffset=len(blob), byteLength=data.nbytes, target=target))
        blob.extend(data.tobytes())
        count = data.shape[0]
        accessor = g.Accessor(bufferView=len(views) - 1, componentType=component, count=count, type=kind)
        if bounds:
            flat = data.reshape(count, -1)
            accessor.min, accessor.max = flat.min(0).tolist(), flat.max(0).tolist()
        accessors.append(accessor)
        return len(accessors) - 1

    position = add(verts, g.VEC3, g.FLOAT, g.ARRAY_BUFFER, bounds=True)
    indices = add(faces.reshape(-1), g.SCALAR, g.UNSIGNED_INT, g.ELEMENT_ARRAY_BUFFER)
    joint_ids = add(joints, g.VEC4, g.UNSIGNED_BYTE, g.ARRAY_BUFFER)
    joint_weights = add(weights, g.VEC4, g.FLOAT, g.ARRAY_BUFFER)
    bind = add(inverse_bind.transpose(0, 2, 1).astype(np.float32), g.MAT4, g.FLOAT)  # column-major
    time = add(times, g.SCALAR, g.FLOAT, bounds=True)
    samplers = [g.AnimationSampler(input=time, output=add(quats[:, j], g.VEC4, g.FLOAT), interpolation="LINEAR")
                for j in range(24)]
    samplers.append(g.AnimationSampler(input=time, output=add(root, g.VEC3, g.FLOAT), interpolation="LINEAR"))
    channels = [g.AnimationChannel(sampler=j, target=g.AnimationChannelTarget(node=j, path="rotation"))
                for j in range(24)]
    channels.append(g.AnimationChannel(sampler=24, target=g.AnimationChannelTarget(node=0, path="translation")))

    nodes = []
    for j in range(24):
        offset = rest_joints[j] - (rest_joints[SMPL_PARENTS[j]] if j else 0.0)
        nodes.append(g.Node(name=SMPL_JOINT_NAMES[j], translation=offset.tolist(),
                            children=[c for c in range(24) if SMPL_PARENTS[c] == j]))
    nodes.append(g.Node(name="body", mesh=0, skin=0))
    attributes = g.Attributes(POSITION=position, JOINTS_0=joint_ids, WEIGHTS_0=joint_weights)
    gltf = g.GLTF2(
        asset=g.Asset(generator="mocap-hmr export", version="2.0"),
        scene=0, scenes=[g.Scene(nodes=[0, 24])], nodes=nodes,
        meshes=[g.Mesh(name="body", primitives=[g.Primitive(attributes=attributes, indices=indices)])],
        skins=[g.Skin(name="smpl", joints=list(range(24)), inverseBindMatrices=bind, skeleton=0)],
        animations=[g.Animation(name="motion", samplers=samplers, channels=channels)],
        accessors=accessors, bufferViews=views, buffers=[g.Buffer(byteLength=len(blob))],
    )
    gltf.set_binary_blob(bytes(blob))
    path = Path(path)
    with atomic_path(path) as tmp:
        gltf.save_binary(str(tmp))
    return path
