"""Motion export, read back by readers this project did not write: BVH with ``bvhio`` (joint
count, hierarchy, channel order, frame time, every joint's global position against the body
model's joints), glTF binary with ``trimesh`` (it opens as a scene with the body mesh) and
``pygltflib``'s parser (joints, frames, a posed vertex skinned from the file's own numbers
against the body model's vertex)."""

import pickle

import numpy as np
import pytest
import torch

from mocap_hmr.body import SMPL_JOINT_NAMES, SMPL_PARENTS, BodyModel
from mocap_hmr.cli import main
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.export import Motion, motion_from_file, write_bvh, write_glb
from mocap_hmr.geometry import axis_angle_to_matrix

bvhio = pytest.importorskip("bvhio")
pygltflib = pytest.importorskip("pygltflib")
trimesh = pytest.importorskip("trimesh")


@pytest.fixture(scope="module")
def body(tiny_body_dir):
    return BodyModel(tiny_body_dir)


@pytest.fixture(scope="module")
def motion():
    gen = torch.Generator().manual_seed(0)
    pose = 0.4 * torch.randn(6, 24, 3, generator=gen)
    transl = torch.randn(6, 3, generator=gen) * 0.5
    return Motion(axis_angle_to_matrix(pose), transl, torch.randn(10, generator=gen), 25.0)


def test_bvh_reads_back_in_bvhio(tmp_path, body, motion):
    path = write_bvh(tmp_path / "motion.bvh", motion, body)
    container = bvhio.readAsBvh(str(path))
    assert container.FrameCount == 6 and container.FrameTime == pytest.approx(1 / 25, abs=1e-7)
    layout = container.Root.layout()
    assert [j.Name for j, _, _ in layout] == [SMPL_JOINT_NAMES[i] for i in _depth_first()]
    parents = {}
    for j, _, _ in layout:
        for child in j.Children:
            parents[child.Name] = j.Name
    assert parents == {SMPL_JOINT_NAMES[i]: SMPL_JOINT_NAMES[SMPL_PARENTS[i]] for i in range(1, 24)}
    assert container.Root.Channels == ["Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation"]
    assert all(j.Channels == ["Zrotation", "Yrotation", "Xrotation"] for j, _, _ in layout[1:])

    joints = motion.posed(body).joints.numpy() * 100  # centimetres
    root = bvhio.readAsHierarchy(str(path))
    for frame in (0, 4):
        root.loadPose(frame)
        found = {j.Name: np.array(j.PositionWorld) for j, _, _ in root.layout()}
        got = np.stack([found[name] for name in SMPL_JOINT_NAMES])
        np.testing.assert_allclose(got, joints[frame], atol=0.1)  # within 1 mm


def _depth_first():
    order, stack = [], [0]
    while stack:
        j = stack.pop()
        order.append(j)
        stack += reversed([c for c in range(24) if SMPL_PARENTS[c] == j])
    return order


def _accessor(gltf, blob, index):
    acc = gltf.accessors[index]
    view = gltf.bufferViews[acc.bufferView]
    dtype = {5126: np.float32, 5125: np.uint32, 5121: np.uint8, 5123: np.uint16}[acc.componentType]
    width = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[acc.type]
    data = np.frombuffer(blob, dtype, acc.count * width, view.byteOffset + (acc.byteOffset or 0))
    return data.reshape(acc.count, width) if width > 1 else data


def _quat_to_matrix(q):
    x, y, z, w = q
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def test_glb_opens_in_trimesh_and_skins_to_the_body_models_vertices(tmp_path, body, motion):
    path = write_glb(tmp_path / "motion.glb", motion, body)
    scene = trimesh.load(str(path))
    [mesh] = scene.geometry.values()
    assert mesh.vertices.shape == (body.num_vertices, 3) and mesh.faces.shape == tuple(body.faces.shape)

    gltf = pygltflib.GLTF2().load_binary(str(path))
    blob = gltf.binary_blob()
    skin = gltf.skins[0]
    assert [gltf.nodes[j].name for j in skin.joints] == list(SMPL_JOINT_NAMES)
    [animation] = gltf.animations
    times = _accessor(gltf, blob, animation.samplers[0].input)
    np.testing.assert_allclose(times, np.arange(6) / 25.0, atol=1e-6)

    frame = 3  # pose the skeleton from the file's own numbers: node translations, animated rotations
    local = {j: np.eye(4) for j in range(24)}
    for j in range(24):
        local[j][:3, 3] = gltf.nodes[j].translation
    for channel in animation.channels:
        values = _accessor(gltf, blob, animation.samplers[channel.sampler].output)[frame]
        node = channel.target.node
        if channel.target.path == "rotation":
            local[node][:3, :3] = _quat_to_matrix(values)
        else:
            local[node][:3, 3] = values
    world = {}
    for j in range(24):
        world[j] = local[j] if j == 0 else world[SMPL_PARENTS[j]] @ local[j]
    bind = _accessor(gltf, blob, skin.inverseBindMatrices).reshape(24, 4, 4).transpose(0, 2, 1)
    attributes = gltf.meshes[0].primitives[0].attributes
    rest = _accessor(gltf, blob, attributes.POSITION)
    joints, weights = _accessor(gltf, blob, attributes.JOINTS_0), _accessor(gltf, blob, attributes.WEIGHTS_0)
    posed = body(motion.rotations[frame:frame + 1], motion.betas[None], motion.transl[frame:frame + 1])
    for v in (0, body.num_vertices // 2, body.num_vertices - 1):
        blend = sum(weights[v, k] * world[int(joints[v, k])] @ bind[int(joints[v, k])] for k in range(4))
        skinned = (blend @ np.r_[rest[v], 1.0])[:3]
        np.testing.assert_allclose(skinned, posed.vertices[0, v].detach().numpy(), atol=1e-4)


def test_export_cli_from_a_predictions_file(tmp_path, tiny_body_dir, capsys):
    rng = np.random.default_rng(0)
    data = {1: {"pose": rng.normal(scale=0.2, size=(8, 72)).astype(np.float32), "frame_ids": np.r_[0:4, 6:10]},
            2: {"pose": np.zeros((3, 72), np.float32)}}
    src = tmp_path / "tracks.pkl"
    src.write_bytes(pickle.dumps(data))
    with pytest.raises(MocapHMRError, match=r"tracks.pkl: holds 2 people \(tracks 1, 2\); choose one with --track"):
        motion_from_file(src)
    motion = motion_from_file(src, track="1")
    assert motion.rotations.shape == (10, 24, 3, 3)  # on the file's timeline: frames 4 and 5 hold frame 3
    torch.testing.assert_close(motion.rotations[4], motion.rotations[3])
    torch.testing.assert_close(motion.rotations[6], axis_angle_to_matrix(torch.from_numpy(data[1]["pose"][4])
                                                                         .reshape(24, 3)))
    for out in ("m.bvh", "m.glb"):
        assert main(["export", str(src), str(tmp_path / out), "--track", "1", "--fps", "24",
                     "--body", str(tiny_body_dir)]) == 0
        assert (tmp_path / out).is_file()
    assert bvhio.readAsBvh(str(tmp_path / "m.bvh")).FrameCount == 10
    assert "10 frames at 24 fps" in capsys.readouterr().out
    assert main(["export", str(src), str(tmp_path / "m.fbx"), "--track", "1"]) == 2
    assert capsys.readouterr().err.strip().endswith("m.fbx: export writes .bvh or .glb files")
