"""The free stand-in body: anny (Apache-2.0 code, CC0 MakeHuman assets) in SMPL's file format.

What the build does, once, deterministically (then the folder is cached):
1. anny's full body (13,718 vertices, 104 bones), with its arms raised into a T-pose by
   anny's own forward kinematics, turned from anny's axes (Z up, facing -Y) into SMPL's
   (Y up, facing +Z, the subject's left at +X);
2. a population of adult phenotypes (gender, age, muscle, weight, height, proportions)
   sampled with a fixed seed, T-posed; its mean is the template, its 10 principal
   components (ordered by variance, scaled to unit-variance betas, the first one making
   the body taller) are the shape directions;
3. SMPL's 24 joints at anny bone heads (the pivots anny rotates about), a joint regressor
   fitted to them across the population, and anny's 104-bone skinning weights summed per
   SMPL joint; no pose correctives (``posedirs`` zero), like anny itself;
4. anny's UVs, procedural skin textures painted through anny's UV region masks, and the
   vertex ids of SPIN's extra joints from anny's COCO keypoint regressor.
Rest frames are identity, so an AMASS/SMPL axis-angle pose drives it as it drives SMPL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from mocap_hmr.body.body_folder import MODEL_FILE, write_body_folder
from mocap_hmr.body.body_model import EXTRA_REGRESSOR_FILE, H36M_REGRESSOR_FILE
from mocap_hmr.body.joint_maps import SMPL_JOINT_NAMES, SMPL_PARENTS
from mocap_hmr.body.model_files import BUILD_INFO_FILE, load_model_file
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.paths import standin_body_dir

# Bump when the build changes what it writes: cached folders of another version are rebuilt.
STANDIN_VERSION = 2  # 2: H36M regressor legs in SPIN's row order (left leg first)
SEED = 0
N_SAMPLES = 1000
N_BETAS = 10
N_TEXTURES = 6
TEXTURE_SIZE = 1024

# anny (Z up, facing -Y) -> SMPL (Y up, facing +Z); the subject's left stays at +X.
ANNY_TO_SMPL = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])

# Adult population the shape space is drawn from: uniform ranges per phenotype (anny's
# [0, 1] scales; age 2/3 is a young adult, 1 an old one).
PHENOTYPE_RANGES = {
    "gender": (0.0, 1.0), "age": (0.58, 1.0), "muscle": (0.1, 0.9), "weight": (0.1, 0.9),
    "height": (0.25, 0.55), "proportions": (0.0, 1.0),
}

_TOES = [f"toe{i}-{j}" for i, n in ((1, 2), (2, 3), (3, 3), (4, 3), (5, 3)) for j in range(1, n + 1)]
_FINGERS = ["finger1-2", "finger1-3"] + [f"finger{i}-{j}" for i in range(2, 6) for j in range(1, 4)]
# SMPL joint -> anny bones whose skinning weights it takes ("{s}" is L or R).
_WEIGHT_BONES = {
    "pelvis": ["root", "pelvis.L", "pelvis.R", "spine05", "spine04"],
    "spine1": ["spine03"], "spine2": ["spine02"], "spine3": ["spine01"],
    "neck": ["neck01", "neck02", "neck03"], "head": ["head", "eye.L", "eye.R"],
    "{side}_hip": ["upperleg01.{s}", "upperleg02.{s}"],
    "{side}_knee": ["lowerleg01.{s}", "lowerleg02.{s}"],
    "{side}_ankle": ["foot.{s}"],
    "{side}_foot": [f"{t}.{{s}}" for t in _TOES],
    "{side}_collar": ["clavicle.{s}", "shoulder01.{s}"],
    "{side}_shoulder": ["upperarm01.{s}", "upperarm02.{s}"],
    "{side}_elbow": ["lowerarm01.{s}", "lowerarm02.{s}"],
    "{side}_wrist": ["wrist.{s}", "finger1-1.{s}"] + [f"metacarpal{i}.{{s}}" for i in range(1, 5)],
    "{side}_hand": [f"{f}.{{s}}" for f in _FINGERS],
}
# SMPL joint -> anny bones whose head positions it averages (the pivot of those bones).
_JOINT_BONES = {
    "pelvis": ["root"], "spine1": ["spine03"], "spine2": ["spine02"], "spine3": ["spine01"],
    "neck": ["neck01"], "head": ["head"],
    "{side}_hip": ["upperleg01.{s}"], "{side}_knee": ["lowerleg01.{s}"],
    "{side}_ankle": ["foot.{s}"], "{side}_foot": [f"toe{i}-1.{{s}}" for i in range(1, 6)],
    "{side}_collar": ["clavicle.{s}"], "{side}_shoulder": ["upperarm01.{s}"],
    "{side}_elbow": ["lowerarm01.{s}"], "{side}_wrist": ["wrist.{s}"],
    "{side}_hand": [f"finger{i}-1.{{s}}" for i in range(2, 6)],
}
# Skin tones of the textures (sRGB), light to dark.
SKIN_TONES = ((241, 204, 180), (224, 172, 140), (198, 141, 106), (160, 108, 76), (118, 76, 52),
              (82, 52, 36))


def _expand_sides(table: dict[str, list[str]]) -> dict[str, list[str]]:
    out = {}
    for key, bones in table.items():
        if "{side}" in key:
            for side, s in (("left", "L"), ("right", "R")):
                out[key.format(side=side)] = [b.format(s=s) for b in bones]
        else:
            out[key] = bones
    return out


WEIGHT_BONES = _expand_sides(_WEIGHT_BONES)
JOINT_BONES = _expand_sides(_JOINT_BONES)


def _import_anny():
    try:
        import anny
    except ImportError as exc:
        raise MocapHMRError(
            "building the stand-in body needs the optional package anny (Apache-2.0 code, CC0 "
            "MakeHuman assets): pip install -e \".[anny]\" (or pip install anny); install torch "
            f"first so that anny does not pull a CUDA build ({exc})"
        ) from exc
    return anny


def bone_to_joint_matrix(bone_labels: list[str]) -> np.ndarray:
    """(n_bones, 24) 0/1 matrix: anny skinning weights @ it = SMPL skinning weights."""
    index = {name: i for i, name in enumerate(bone_labels)}
    matrix = np.zeros((len(bone_labels), 24))
    for j, joint in enumerate(SMPL_JOINT_NAMES):
        for bone in WEIGHT_BONES[joint]:
            if bone not in index:
                raise MocapHMRError(f"this anny version has no bone '{bone}' (needed for SMPL's {joint})")
            matrix[index[bone], j] = 1.0
    unmapped = [bone_labels[i] for i in np.nonzero(matrix.sum(1) != 1)[0]]
    if unmapped:
        raise MocapHMRError(f"anny bones not mapped to exactly one SMPL joint: {unmapped}")
    return matrix


def _rotation_between(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Smallest rotation (3, 3) taking direction a to direction b."""
    from mocap_hmr.geometry import axis_angle_to_matrix

    a, b = a / a.norm(), b / b.norm()
    axis = torch.linalg.cross(a, b)
    sin, cos = axis.norm(), (a * b).sum()
    if sin < 1e-12:
        return torch.eye(3, dtype=a.dtype)
    return axis_angle_to_matrix(axis / sin * torch.atan2(sin, cos))


def _subtree(parents: list[int], root: int) -> list[int]:
    members = {root}
    for i, p in enumerate(parents):  # anny lists parents before children
        if p in members:
            members.add(i)
    return sorted(members)


def tpose_parameters(model) -> torch.Tensor:
    """(1, n_bones, 4, 4) anny 'local-ref' pose raising both arms horizontal, elbows straight.

    anny's local-ref parameters are world-aligned rotations relative to its fixed reference
    orientations (bone axis = local +Y), so one set of parameters fits every phenotype."""
    labels, parents = model.bone_labels, model.bone_parents
    ref = model.reference_bone_orientations
    world = torch.eye(3, dtype=ref.dtype).repeat(len(labels), 1, 1)
    for s, sign in (("L", 1.0), ("R", -1.0)):
        target = torch.tensor([sign, 0.0, 0.0], dtype=ref.dtype)  # anny's +X is the subject's left
        upper, lower = labels.index(f"upperarm01.{s}"), labels.index(f"lowerarm01.{s}")
        raise_arm = _rotation_between(ref[upper][:, 1], target)
        world[_subtree(parents, upper)] = raise_arm
        straighten = _rotation_between(raise_arm @ ref[lower][:, 1], target) @ raise_arm
        world[_subtree(parents, lower)] = straighten
    parent_idx = torch.tensor([0] + list(parents[1:]))
    pose = torch.eye(4, dtype=ref.dtype).repeat(1, len(labels), 1, 1)
    pose[0, :, :3, :3] = world[parent_idx].transpose(-1, -2) @ world
    pose[0, 0, :3, :3] = world[0]
    return pose


def sample_phenotypes(n: int, generator: torch.Generator, labels: list[str]) -> torch.Tensor:
    """(n, 6) adult phenotypes in anny's label order, uniform in PHENOTYPE_RANGES."""
    lo = torch.tensor([PHENOTYPE_RANGES[k][0] for k in labels], dtype=torch.float64)
    hi = torch.tensor([PHENOTYPE_RANGES[k][1] for k in labels], dtype=torch.float64)
    return lo + (hi - lo) * torch.rand(n, len(labels), generator=generator, dtype=torch.float64)


@torch.no_grad()
def tposed_population(model, phenotypes: torch.Tensor, chunk: int = 100):
    """T-posed vertices (N, V, 3) and SMPL joints (N, 24, 3), in SMPL's axes, metres."""
    pose = tpose_parameters(model)
    heads_index = [[model.bone_labels.index(b) for b in JOINT_BONES[j]] for j in SMPL_JOINT_NAMES]
    verts, joints = [], []
    for start in range(0, len(phenotypes), chunk):
        out = model(pose_parameters=pose, phenotype_kwargs=phenotypes[start:start + chunk])
        heads = out["bone_poses"][:, :, :3, 3].numpy()
        verts.append(out["vertices"].numpy() @ ANNY_TO_SMPL.T)
        joints.append(np.stack([heads[:, idx].mean(1) for idx in heads_index], 1) @ ANNY_TO_SMPL.T)
    return np.concatenate(verts), np.concatenate(joints)


def shape_space(verts: np.ndarray, n_betas: int = N_BETAS) -> tuple[np.ndarray, np.ndarray]:
    """PCA of a population (N, V, 3) -> template (V, 3), shapedirs (V, 3, n_betas).

    Each direction is scaled by its standard deviation (betas ~ N(0, 1) span the
    population); the first is signed to make the body taller, the others so that their
    largest displacement is positive (a deterministic choice)."""
    n = len(verts)
    flat = verts.reshape(n, -1)
    mean = flat.mean(0)
    _, sing, comps = np.linalg.svd(flat - mean, full_matrices=False)
    dirs = comps[:n_betas] * (sing[:n_betas, None] / np.sqrt(n - 1))
    dirs = dirs.reshape(n_betas, -1, 3)
    template = mean.reshape(-1, 3)
    for k in range(n_betas):
        if k == 0:
            taller = np.ptp(template[:, 1] + dirs[0, :, 1]) > np.ptp(template[:, 1])
            flip = not taller
        else:
            flip = dirs[k].reshape(-1)[np.abs(dirs[k]).argmax()] < 0
        if flip:
            dirs[k] = -dirs[k]
    return template, dirs.transpose(1, 2, 0)


def fit_joint_regressor(verts: np.ndarray, joints: np.ndarray, n_near: int = 300,
                        ridge: float = 1e-4) -> np.ndarray:
    """(24, V) regressor: each joint a weighted sum (summing to 1) of its n_near nearest
    vertices, fitted by ridge least squares across the population (N, V, 3) -> (N, 24, 3)."""
    mean_v, mean_j = verts.mean(0), joints.mean(0)
    regressor = np.zeros((24, verts.shape[1]))
    for j in range(24):
        near = np.argsort(np.linalg.norm(mean_v - mean_j[j], axis=1))[:n_near]
        a = verts[:, near, :].transpose(0, 2, 1).reshape(-1, n_near)  # rows: (sample, axis)
        b = joints[:, j, :].reshape(-1)
        # a heavily weighted extra row asks the weights to sum to one (translation invariance)
        a = np.vstack([a, np.full((1, n_near), 10.0)])
        b = np.append(b, 10.0)
        w = np.linalg.solve(a.T @ a + ridge * np.eye(n_near), a.T @ b)
        regressor[j, near] = w
    return regressor


def dense_skinning_weights(model) -> np.ndarray:
    """(V, 24) SMPL skinning weights: anny's sparse per-bone weights summed per SMPL joint."""
    idx = model.vertex_bone_indices.numpy()
    w = model.vertex_bone_weights.numpy()
    per_bone = np.zeros((idx.shape[0], model.bone_count))
    np.add.at(per_bone, (np.arange(idx.shape[0])[:, None].repeat(idx.shape[1], 1), idx), w)
    return per_bone @ bone_to_joint_matrix(model.bone_labels)


def keypoint_vertex_ids(anny, model, template_anny: np.ndarray, weights: np.ndarray,
                        template: np.ndarray) -> dict[str, int]:
    """Vertex ids of SPIN's extra joints: the vertex nearest anny's COCO keypoint (nose,
    eyes, ears, toes); heels are the most posterior vertex of each foot."""
    regressor = anny.KeypointsRegressor.coco(model)
    with torch.no_grad():
        points = regressor({"vertices": torch.from_numpy(template_anny)[None]})[0].numpy()
    names = {"nose": "nose", "reye": "right_eye", "leye": "left_eye", "rear": "right_ear",
             "lear": "left_ear", "LBigToe": "left_big_toe", "LSmallToe": "left_small_toe",
             "RBigToe": "right_big_toe", "RSmallToe": "right_small_toe"}
    ids = {}
    for ours, coco in names.items():
        point = points[regressor.labels.index(coco)]
        ids[ours] = int(np.argmin(np.linalg.norm(template_anny - point, axis=1)))
    for ours, side in (("LHeel", "left"), ("RHeel", "right")):
        foot = weights[:, SMPL_JOINT_NAMES.index(f"{side}_ankle")] > 0.5
        candidates = np.nonzero(foot)[0]
        ids[ours] = int(candidates[np.argmin(template[candidates, 2])])
    return ids


def _head_groups(template: np.ndarray, weights: np.ndarray):
    """Vertex ids of the top of the head (within 1 cm of its highest point) and of the chin
    (within 1.5 cm of the lowest front midline point of the head)."""
    head = np.nonzero(weights[:, SMPL_JOINT_NAMES.index("head")] > 0.5)[0]
    top = head[template[head, 1] > template[head, 1].max() - 0.01]
    front_mid = head[(np.abs(template[head, 0]) < 0.01) & (template[head, 2] > np.median(template[head, 2]))]
    chin_point = template[front_mid[np.argmin(template[front_mid, 1])]]
    chin = head[np.linalg.norm(template[head] - chin_point, axis=1) < 0.015]
    return top, chin


def skin_textures(anny_root: Path, n: int = N_TEXTURES, size: int = TEXTURE_SIZE) -> list[np.ndarray]:
    """Skin textures (size, size, 3) uint8 in anny's UV layout: one tone each, lips, nails,
    eyelids, areolae and eyes painted through anny's UV masks, mild mottling."""
    from mocap_hmr.imageio import read_image

    def mask(name: str) -> np.ndarray:
        image = read_image(anny_root / "data" / "mpfb2" / "textures" / f"mpfb_{name}.jpg")[..., 0]
        return _resize_area(image.astype(np.float64) / 255.0, size)[..., None]

    seg_file = anny_root / "data" / "segmentation" / "body_parts_segmentation.png"
    seg = _resize_nearest(read_image(seg_file), size)

    def region(rgb) -> np.ndarray:
        return (np.abs(seg.astype(int) - np.asarray(rgb)).sum(-1) < 30)[..., None]

    lips, nails = mask("lips"), np.maximum(mask("fingernails"), mask("toenails"))
    eyelids, areolae, mouth = mask("eyelids"), mask("aureolae"), mask("inside-mouth")
    eye_front = region((16, 231, 186)) | region((16, 115, 231))
    cavity = region((253, 249, 16)) | region((249, 108, 136)) | region((112, 172, 255))
    rng = np.random.default_rng(SEED)
    textures = []
    for tone in np.linspace(0, len(SKIN_TONES) - 1, n):
        low, frac = int(np.floor(tone)), tone - np.floor(tone)
        high = min(low + 1, len(SKIN_TONES) - 1)
        base = (1 - frac) * np.asarray(SKIN_TONES[low]) + frac * np.asarray(SKIN_TONES[high])
        noise = _resize_area(rng.normal(size=(size // 16, size // 16)), size, upsample=True)
        image = base * (1.0 + 0.04 * noise[..., None]) * np.ones((size, size, 1))
        image = _blend(image, base * np.array([0.78, 0.55, 0.55]), lips)
        image = _blend(image, base * 0.85, 0.6 * eyelids)
        image = _blend(image, base * np.array([0.75, 0.6, 0.58]), areolae)
        image = _blend(image, np.minimum(base * 1.12 + 20, 255), nails)
        image = _blend(image, np.array([90, 30, 35]), np.maximum(mouth, cavity))
        image = _paint_eyes(image, eye_front[..., 0], rng)
        textures.append(np.clip(image, 0, 255).astype(np.uint8))
    return textures


def _blend(image: np.ndarray, colour, alpha) -> np.ndarray:
    return image * (1 - alpha) + np.asarray(colour, dtype=np.float64) * alpha


def _resize_area(image: np.ndarray, size: int, upsample: bool = False) -> np.ndarray:
    """Square float image to (size, size): box average down, bilinear up."""
    t = torch.from_numpy(np.ascontiguousarray(image))[None, None]
    mode = "bilinear" if upsample else "area"
    kwargs = {"align_corners": False} if upsample else {}
    return torch.nn.functional.interpolate(t, size=(size, size), mode=mode, **kwargs)[0, 0].numpy()


def _resize_nearest(image: np.ndarray, size: int) -> np.ndarray:
    rows = np.arange(size) * image.shape[0] // size
    cols = np.arange(size) * image.shape[1] // size
    return image[rows][:, cols]


def _paint_eyes(image: np.ndarray, eye_front: np.ndarray, rng) -> np.ndarray:
    """Sclera, iris and pupil centred on each connected eye-front region of the UV map."""
    ys, xs = np.nonzero(eye_front)
    if len(xs) == 0:
        return image
    out = image.copy()
    iris = rng.choice([(70, 45, 25), (60, 90, 120), (75, 100, 60)])
    half = xs < np.median(xs)  # the two eyes sit side by side in the UV atlas
    for part in (half, ~half):
        cy, cx = ys[part].mean(), xs[part].mean()
        radius = 0.5 * np.sqrt(part.sum() / np.pi)
        dist = np.hypot(ys[part] - cy, xs[part] - cx)
        sclera = np.array([235, 232, 225])
        colour = np.where((dist < 0.8 * radius)[:, None], np.asarray(iris), sclera)
        colour = np.where((dist < 0.35 * radius)[:, None], np.array([15, 12, 12]), colour)
        out[ys[part], xs[part]] = colour
    return out


def build_problem(folder: Path) -> str | None:
    """What is wrong with the stand-in body build in ``folder`` (None: a complete, readable
    build of this version of the builder): missing, of another version, or a file that does
    not read (cut short, corrupt)."""
    info = folder / BUILD_INFO_FILE
    if not (folder / MODEL_FILE).is_file() or not info.is_file():
        return "not built"
    try:
        if json.loads(info.read_text()).get("standin_version") != STANDIN_VERSION:
            return "built by another version of the builder"
    except (OSError, ValueError) as exc:
        return f"{info} does not read ({exc})"
    try:
        load_model_file(folder / MODEL_FILE)
        for name in (EXTRA_REGRESSOR_FILE, H36M_REGRESSOR_FILE):
            np.load(folder / name, allow_pickle=False)
    except (MocapHMRError, OSError, ValueError) as exc:
        return str(exc)
    return None


def is_current(folder: Path) -> bool:
    """True when ``folder`` holds a readable stand-in body built by this version of the builder."""
    return build_problem(folder) is None


def build_standin_body(out_dir: str | Path | None = None, force: bool = False,
                       log: Callable[[str], None] = print) -> Path:
    """Build the stand-in body into ``out_dir`` (default: the cache) unless a current,
    readable build is there; a broken one (a file cut short ...) is rebuilt, and said so."""
    out = Path(out_dir) if out_dir else standin_body_dir()
    problem = build_problem(out)
    if not force and problem is None:
        return out
    if not force and problem != "not built":
        log(f"{out}: the stand-in body there is broken or out of date ({problem}): rebuilding it")
    anny = _import_anny()
    started = time.perf_counter()

    def step(message: str) -> None:
        log(f"[{time.perf_counter() - started:6.1f}s] {message}")

    step("loading anny (the first time anny builds its own cache, about a minute)")
    model = anny.Anny(skinning_method="lbs")
    step(f"anny {_anny_version()}: {model.template_vertices.shape[0]} vertices, {model.bone_count} bones")
    generator = torch.Generator().manual_seed(SEED)
    phenotypes = sample_phenotypes(N_SAMPLES, generator, list(model.phenotype_labels))
    step(f"T-posing {N_SAMPLES} adult phenotypes")
    verts, joints = tposed_population(model, phenotypes)
    step("shape space (PCA) and joint regressor")
    template, shapedirs = shape_space(verts)
    regressor = fit_joint_regressor(verts, joints)
    weights = dense_skinning_weights(model)
    template_anny = template @ ANNY_TO_SMPL  # back to anny's axes for its keypoint regressor
    vertex_ids = keypoint_vertex_ids(anny, model, template_anny, weights, template)
    head_top, chin = _head_groups(template, weights)
    step(f"{N_TEXTURES} skin textures")
    anny_root = Path(anny.__file__).parent
    textures = skin_textures(anny_root)
    heights = np.ptp(verts[..., 1], axis=1)
    faces = model.faces.numpy()
    data = {
        "v_template": template,
        "f": faces,
        "J_regressor": regressor,
        "J": regressor @ template,
        "kintree_table": np.stack([np.asarray(SMPL_PARENTS), np.arange(24)]),
        "weights": weights,
        "shapedirs": shapedirs,
        "posedirs": np.zeros((len(template), 3, 207)),
        "vt": model.texture_coordinates.numpy(),
        "ft": model.face_texture_coordinate_indices.numpy(),
        "vertex_ids": vertex_ids,
    }
    info = {
        "standin_version": STANDIN_VERSION, "anny_version": _anny_version(), "seed": SEED,
        "samples": N_SAMPLES, "phenotype_ranges": PHENOTYPE_RANGES,
        "vertices": int(len(template)), "faces": int(len(faces)),
        "population_height_m": {"mean": float(heights.mean()), "min": float(heights.min()),
                                "max": float(heights.max())},
        "build_seconds": round(time.perf_counter() - started, 1),
        "licence": "anny: Apache-2.0 code, CC0 MakeHuman assets",
    }
    step(f"writing {out}")
    write_body_folder(out, data, head_top, chin, textures, info=info)
    step("done")
    return out


def _anny_version() -> str:
    from importlib.metadata import version

    return version("anny")


def resolve_body_model(model_path: str | Path | None = None,
                       log: Callable[[str], None] = print) -> Path:
    """The body folder or file a run uses: ``model_path`` if given, else ``$SMPL_DIR``, else
    the stand-in body, built (once, into the cache) when it is not there yet."""
    import os

    from mocap_hmr.paths import SMPL_DIR_ENV

    chosen = model_path or os.environ.get(SMPL_DIR_ENV)
    if chosen:
        return Path(chosen)
    return build_standin_body(log=log)
