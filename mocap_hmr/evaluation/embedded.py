"""Embedded benchmarks: seeded, frozen, **synthetic** test sets that need no licensed data.

All made from *held-out motion*: a procedural corpus of its own seed (``HELD_OUT_SEED``,
``mocap_hmr.data.embedded_world``) that neither training corpus (the MoCap domain's, seed 0,
nor the real domain's, seed 1) contains.

- ``image_test_set``: single renderings in the real domain's look (``real_look``; no
  photometric augmentation, full-body crops) of held-out frames of chosen procedural families
  from cameras of chosen Tait-Bryan ranges (default: every family, the paper's full ranges).
  ``embedded_image_set`` makes the three named sets of ``IMAGE_SETS`` eval.py reports, the
  embedded world's domain gap made measurable: ``embedded-in-coverage`` (the real domain's
  families and photo cameras), ``embedded-pose-gap`` (the families the real domain lacks, its
  photo cameras) and ``embedded-view-gap`` (its families from the paper's full camera ranges).
  ``VALIDATION_SETS`` are the same three recipes (``validation-in-coverage``, ...) drawn from
  the validation corpus (``VALIDATION_SEED``, other subjects, no set or domain holds it): where
  recipes are chosen, so that the test sets are scored only once a recipe is fixed.
- ``real_domain_set``: the embedded world's *real* domain as a finite image set, the stand-in
  for SPIN's training images (``mocap_hmr.training.stand_in_spin`` trains on it, the main job
  draws the real half of its batches from it): frames of the real domain's corpus
  (``REAL_FAMILIES`` of seed 1) rendered in its look with photometric augmentation, photo
  cameras and the renderer's crops (a fifth cut at the hips or knees); the ``train`` split
  holds four of every five sequences, ``held-out`` the fifth.
- ``video_test_set``: consecutive frames of held-out sequences, one camera (view rotation
  and focal length) and one appearance (texture, light, background) per sequence. Each
  frame is placed in front of the camera and cropped around the body on its own, as a
  per-frame model sees a video after a tracker: the root translation of the motion does not
  move the body in the crop; its root rotation does turn it relative to the fixed camera.
- ``denoising_set``: held-out pose sequences corrupted the way image models err: Gaussian
  axis-angle noise on every joint, left/right limb swaps (mirror-swaps of an arm or a leg
  for a few frames) and dropped frames.
- ``generalisation_set``: the same corruption on windows of every procedural family, drawn
  family by family from a held-out corpus of its own (``GENERALISATION_SEED``), plus a group
  of windows whose whole motion is turned by a uniformly random rotation (bodies lying,
  upside down, leaning: global orientations no training corpus holds). With the default run's
  PoseBERT, which never sees ``HELD_OUT_FAMILIES``, it measures smoothing on motion of kinds
  it was not trained on.

Frozen: a set is generated once from its seed and written (atomically) into
``$MOCAP_HMR_CACHE/embedded_benchmarks/<name>_<params>_v<VERSION>.npz``; later calls load that
file. Generation is bit-for-bit reproducible on the same device type and rasterizer
backend; the file records where it was made. A file that cannot be read (cut short,
corrupt, another format version, other parameters) is reported through ``log`` and
regenerated. Images are stored as uint8 and normalized on load like SPIN's crops. Ground
truth is pose and betas only: joints and vertices come from the body model at evaluation.
"""

from __future__ import annotations

import hashlib
import json
import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import torch

from mocap_hmr.atomic import atomic_write
from mocap_hmr.body import BodyModel
from mocap_hmr.body.joint_maps import SMPL_FLIP_PERM, SMPL_JOINT_NAMES
from mocap_hmr.data.crop_batch import CropBatch
from mocap_hmr.data.default_corpus import default_motion_index
from mocap_hmr.data.embedded_world import (
    GAP_FAMILIES,
    HELD_OUT_MINUTES,
    HELD_OUT_SEED,
    PHOTO_CAMERAS,
    REAL_FAMILIES,
    held_out_motion_index,
    real_domain_corpus,
    real_motion_index,
    validation_motion_index,
)
from mocap_hmr.data.motion_index import MotionIndex, load_index
from mocap_hmr.data.procedural import FAMILIES
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_axis_angle
from mocap_hmr.imageio import denormalize_images, normalize_images
from mocap_hmr.paths import cache_dir
from mocap_hmr.progress import progress
from renderers.appearance import suit_textures
from renderers.build import build_renderer
from renderers.plain import GreyBackgrounds
from renderers.synthetic import SyntheticRenderer
from samplers.cameras import CameraSampler
from samplers.crops import CropSampler
from samplers.sequences import SequenceSampler

VERSION = 2  # bump when a change of recipe changes the sets: old files are then left alone
FORMAT = "mocap-hmr-embedded-benchmark"
RENDER_BATCH = 32
SWAP_FRAMES = (2, 8)  # a limb swap lasts this many consecutive frames, uniformly (inclusive)
# Left-side joint-name suffixes of each limb chain; the right side is its mirror.
LIMB_CHAINS = {"arm": ("collar", "shoulder", "elbow", "wrist", "hand"), "leg": ("hip", "knee", "ankle", "foot")}
LIMBS = tuple(LIMB_CHAINS)
# The family-held-out split: configs/default.yaml's PoseBERT trains without these families
# (posebert.exclude), chosen for what no other family has: a flight phase and landing (jump),
# sitting down onto and rising from a seat (sit), rhythmic whole-body coordination (dance).
HELD_OUT_FAMILIES = ("jump", "sit", "dance")
GENERALISATION_SEED = 4
GENERALISATION_MINUTES = 10.0
TURNED = "turned"  # the generalisation group of randomly re-oriented windows
MIRROR = (1.0, -1.0, -1.0)  # axis-angle of a rotation reflected through SMPL's sagittal (x = 0) plane
# The corpora image sets draw from: the test sets' held-out corpus, the validation sets' own
IMAGE_SPLITS = {"test": held_out_motion_index, "validation": validation_motion_index}


class EmbeddedBenchmarkError(MocapHMRError, ValueError):
    """A cached embedded benchmark file is cut short, corrupt or of other settings."""


@dataclass
class RenderedTestSet:
    """Renderings and their ground truth, as ``CropBatch`` holds them (the shapes are the
    subclasses'): images normalized as HMR takes them; pose axis-angle, root in the camera
    frame; betas; camera weak perspective [s, tx, ty]; cam_t; focal, principal crop
    intrinsics in pixels; crop_kind (all FULL); view Tait-Bryan view rotations; view_focal
    focal length in image sizes before cropping; frame ids in the held-out index (30 fps).
    meta: how and where it was made; path: its cache file."""

    images: torch.Tensor
    pose: torch.Tensor
    betas: torch.Tensor
    camera: torch.Tensor
    cam_t: torch.Tensor
    focal: torch.Tensor
    principal: torch.Tensor
    crop_kind: torch.Tensor
    view: torch.Tensor
    view_focal: torch.Tensor
    frame: torch.Tensor
    meta: dict
    path: Path


@dataclass
class ImageTestSet(RenderedTestSet):
    """N renderings: images (N, 3, S, S); pose (N, 24, 3); betas (N, 10); camera, cam_t (N, 3);
    focal, principal (N, 2); crop_kind, view_focal, frame (N,); view (N, 3, 3); angles (N, 3):
    the view's Tait-Bryan yaw, pitch and roll, radians."""

    angles: torch.Tensor


@dataclass(frozen=True)
class ImageSetRecipe:
    """What a named image set draws: frames of ``families`` (procedural family names) of the
    corpus of ``split`` (``IMAGE_SPLITS``), seen from cameras of ``cameras`` ({"yaw", "pitch",
    "roll"}: degrees, uniform within +-; None: the paper's full ranges, ``CameraSampler``'s
    defaults), with its own ``seed``."""

    families: tuple[str, ...]
    cameras: dict | None
    seed: int
    about: str
    split: str = "test"


# The embedded world's test sets (mocap_hmr.data.embedded_world), as eval.py names them
IMAGE_SETS = {
    "embedded-in-coverage": ImageSetRecipe(REAL_FAMILIES, PHOTO_CAMERAS, 1,
                                           "the real domain's motion families and photo cameras"),
    "embedded-pose-gap": ImageSetRecipe(GAP_FAMILIES, PHOTO_CAMERAS, 2,
                                        "the motion families the real domain lacks, its photo cameras"),
    "embedded-view-gap": ImageSetRecipe(REAL_FAMILIES, None, 3,
                                        "the real domain's motion families, the paper's full camera ranges"),
}
# Their validation twins: the same recipes on the validation corpus, with seeds of their own
VALIDATION_SEED_OFFSET = 10
VALIDATION_SETS = {
    name.replace("embedded-", "validation-", 1): replace(recipe, seed=recipe.seed + VALIDATION_SEED_OFFSET,
                                                         split="validation")
    for name, recipe in IMAGE_SETS.items()
}
NAMED_IMAGE_SETS = {**IMAGE_SETS, **VALIDATION_SETS}


@dataclass
class VideoTestSet(RenderedTestSet):
    """S sequences of T consecutive frames at ``fps``, layout (S, T, ...): images
    (S, T, 3, H, W); pose (S, T, 24, 3); betas (S, 10) (one subject per sequence); camera,
    cam_t (S, T, 3); focal, principal (S, T, 2) per-frame crop intrinsics; crop_kind (S, T);
    view (S, T, 3, 3) and view_focal (S, T): the sequence's camera, the same at every frame;
    frame (S, T) ids in the held-out index at ``fps``."""

    fps: float


@dataclass
class DenoisingSet:
    """S held-out pose sequences of T frames at ``fps``: clean (S, T, 24, 3) axis-angle, Y-up
    world root; noisy (S, T, 24, 3): limb swaps, then Gaussian noise, NaN on dropped frames;
    observed (S, T) bool, False where dropped; swapped (S, T, len(LIMBS)) bool: which limbs
    were mirror-swapped at each frame; betas (S, 10); frame (S, T) ids in the held-out index."""

    clean: torch.Tensor
    noisy: torch.Tensor
    observed: torch.Tensor
    swapped: torch.Tensor
    betas: torch.Tensor
    frame: torch.Tensor
    fps: float
    meta: dict
    path: Path


def benchmark_dir() -> Path:
    """Where the sets are cached: ``$MOCAP_HMR_CACHE/embedded_benchmarks``."""
    return cache_dir() / "embedded_benchmarks"


def real_look(body: BodyModel) -> dict:
    """``build_renderer``'s appearance arguments for the real domain's look
    (``mocap_hmr.data.embedded_world``): the part-coloured suit on plain grey backgrounds."""
    return {"textures": suit_textures(body, device=_device(body)), "backgrounds": GreyBackgrounds}


def real_domain_renderer(body: BodyModel, index: MotionIndex, image_size: int, backend: str = "torch"
                         ) -> SyntheticRenderer:
    """The real domain's renderer over ``index``: its look, photo cameras (``PHOTO_CAMERAS``),
    crops and photometric augmentation, as ``real_domain_set`` draws its crops."""
    return build_renderer(body, index, image_size=image_size, backend=backend, device=_device(body),
                          augment=True, cameras=CameraSampler(**PHOTO_CAMERAS), **real_look(body))


def real_look_renderer(body: BodyModel, index: MotionIndex, image_size: int,
                       backend: str = "torch", cameras: CameraSampler | None = None) -> SyntheticRenderer:
    """The real domain's look (``real_look``, no photometric augmentation, as
    ``runner.build_streams``), with full-body crops only, on the body's device; ``cameras``:
    its viewpoints (default ``CameraSampler()``)."""
    return build_renderer(body, index, image_size=image_size, backend=backend, device=_device(body),
                          augment=False, cameras=cameras, crops=CropSampler(upper_body=0.0), **real_look(body))


def renderer_appearance(renderer: SyntheticRenderer) -> dict:
    """The appearance settings of a renderer, as the sets record them in ``meta``."""
    return {"clothed": float(renderer.textures.clothed), "augment": renderer.augment is not None,
            "upper_body": float(renderer.crops.upper_body), "texture_size": int(renderer.textures.size)}


def body_fingerprint(body: BodyModel) -> str:
    """12 hex digits identifying what a rendering of ``body`` depends on: its tensors, UVs
    and skin textures (``<model folder>/textures``)."""
    digest = hashlib.sha256()
    for name, tensor in sorted([*body.named_buffers(), *body.named_parameters()], key=lambda item: item[0]):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    for array in body.uv or ():
        digest.update(np.ascontiguousarray(array).tobytes())
    textures = body.model_file.parent / "textures"
    for path in sorted(textures.rglob("*")) if textures.is_dir() else ():
        if path.is_file():
            digest.update(path.relative_to(textures).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def image_test_set(body: BodyModel, image_size: int = 224, n: int = 256, seed: int = 0,
                   families: tuple[str, ...] | None = None, cameras: dict | None = None,
                   device: str | torch.device | None = None, backend: str = "torch", split: str = "test",
                   log: Callable[[str], None] = print) -> ImageTestSet:
    """``n`` frames (drawn without replacement) of the corpus of ``split`` (``IMAGE_SPLITS``:
    "test", the held-out corpus, or "validation") of ``families`` (procedural family names;
    None: every frame), each from its own Tait-Bryan camera with yaw, pitch and roll uniform
    within +- ``cameras["yaw"]``, ``["pitch"]``, ``["roll"]`` degrees (None: the paper's full
    ranges, ``CameraSampler``'s defaults), rendered in the real domain's look on the body's
    device; returned on ``device`` (default: the body's). Cached (see the module docstring);
    ``families``, ``cameras`` and a validation ``split`` are in the file's name when given."""
    if split not in IMAGE_SPLITS:
        raise MocapHMRError(f"image_test_set: split must be one of {', '.join(IMAGE_SPLITS)}, got {split!r}")
    params = {"n": n, "size": image_size, "seed": seed, "body": body_fingerprint(body)}
    if split != "test":
        params["split"] = split
    if families is not None:
        families = tuple(families)
        unknown = sorted(set(families) - set(FAMILIES))
        if unknown or not families:
            raise MocapHMRError(f"image_test_set: families must be some of {', '.join(FAMILIES)}, got {families}")
        params["families"] = "+".join(families)
    if cameras is not None:
        cameras = {k: float(cameras[k]) for k in ("yaw", "pitch", "roll")}
        params["cameras"] = "-".join(f"{k}{v:g}" for k, v in cameras.items())

    def make() -> tuple[dict[str, np.ndarray], dict]:
        index = load_index(IMAGE_SPLITS[split](log=log), device=_device(body))
        candidates = torch.arange(index.num_frames, device=_device(body))
        if families is not None:
            in_families = torch.tensor([family_of(name) in families for name in index.names], device=_device(body))
            candidates = candidates[in_families[index.frame_sequence()]]
        if n > len(candidates):
            raise MocapHMRError(f"image_test_set: n={n} is more than the {len(candidates)} "
                                + ("held-out" if split == "test" else split) + " frames"
                                + (f" of {', '.join(families)}" if families is not None else ""))
        renderer = real_look_renderer(body, index, image_size, backend,
                                      cameras=CameraSampler(**cameras) if cameras is not None else None)
        generator = torch.Generator(device=_device(body)).manual_seed(seed)
        frame = candidates[torch.randperm(len(candidates), generator=generator, device=_device(body))[:n]]
        cams = renderer.views(n, generator)
        pose, betas = index.poses[frame], index.betas[index.frame_sequence()[frame]]
        chunks = [_render(renderer, pose[i:i + RENDER_BATCH], betas[i:i + RENDER_BATCH],
                          cams["R"][i:i + RENDER_BATCH], cams["focal"][i:i + RENDER_BATCH], generator)
                  for i in progress(range(0, n, RENDER_BATCH), -(-n // RENDER_BATCH),
                                    "rendering the embedded image test set", unit="batches")]
        arrays = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
        arrays.update(view=_numpy(cams["R"]), view_focal=_numpy(cams["focal"]), frame=_numpy(frame),
                      angles=_numpy(torch.stack([cams["yaw"], cams["pitch"], cams["roll"]], dim=-1)))
        meta = _render_meta(renderer, index, backend)
        meta["families"] = list(families) if families is not None else list(FAMILIES)
        meta["split"] = split
        meta["cameras"] = {k: math.degrees(v) for k, v in zip(("yaw", "pitch", "roll"), renderer.cameras.limits,
                                                               strict=True)}
        return arrays, meta

    arrays, meta, path = _cached("image", params, make, _keys(ImageTestSet), log)
    return ImageTestSet(**_tensors(arrays, device or _device(body)), meta=meta, path=path)


def embedded_image_set(body: BodyModel, name: str, image_size: int = 224, n: int = 256,
                       device: str | torch.device | None = None, backend: str = "torch",
                       log: Callable[[str], None] = print) -> ImageTestSet:
    """The image set ``name`` of ``IMAGE_SETS`` or ``VALIDATION_SETS`` (``n`` samples; see
    ``image_test_set``)."""
    if name not in NAMED_IMAGE_SETS:
        raise MocapHMRError(f"no embedded image set {name!r}: there are {', '.join(NAMED_IMAGE_SETS)}")
    recipe = NAMED_IMAGE_SETS[name]
    return image_test_set(body, image_size, n=n, seed=recipe.seed, families=recipe.families, cameras=recipe.cameras,
                          device=device, backend=backend, split=recipe.split, log=log)


REAL_SPLITS = ("train", "held-out")
HELD_OUT_EVERY = 5  # the held-out split: every fifth sequence of the real domain's corpus


def real_domain_set(body: BodyModel, image_size: int, n: int, split: str = "train", seed: int = 0,
                    gap_share: float = 0.0, backend: str = "torch",
                    log: Callable[[str], None] = print) -> CropBatch:
    """``n`` renderings of the real domain (see the module docstring; ``gap_share``: its corpus,
    ``embedded_world.real_domain_corpus``) of the sequences of ``split``, frames drawn with
    replacement, as one ``CropBatch`` on the CPU (images normalized). Cached like the test sets."""
    if split not in REAL_SPLITS:
        raise MocapHMRError(f"real_domain_set: split must be one of {', '.join(REAL_SPLITS)}, got {split!r}")
    params = {"n": n, "size": image_size, "split": split, "seed": seed, "gap_share": gap_share,
              "body": body_fingerprint(body)}

    def make() -> tuple[dict[str, np.ndarray], dict]:
        corpus = real_domain_corpus(load_index(real_motion_index(log=log), device=_device(body)), gap_share)
        held_out = split == "held-out"
        index = corpus.select([s for s in range(len(corpus.names)) if (s % HELD_OUT_EVERY == HELD_OUT_EVERY - 1)
                               == held_out])
        renderer = real_domain_renderer(body, index, image_size, backend)
        generator = torch.Generator(device=_device(body)).manual_seed(seed)
        chunks = []
        for first in progress(range(0, n, RENDER_BATCH), -(-n // RENDER_BATCH),
                              f"rendering the embedded real domain ({split})", unit="batches"):
            chunks.append(_arrays(renderer.sample(min(RENDER_BATCH, n - first), generator),
                                  [f.name for f in fields(CropBatch) if f.name != "images"]))
        arrays = {k: np.concatenate([c[k] for c in chunks]) for k in chunks[0]}
        return arrays, {**_render_meta(renderer, index, backend), "sequences": index.names}

    arrays, _, _ = _cached("real_domain", params, make, tuple(f.name for f in fields(CropBatch)), log)
    return CropBatch(**_tensors(arrays, "cpu"))


def video_test_set(body: BodyModel, image_size: int = 224, sequences: int = 8, frames: int = 48,
                   fps: float = 30.0, seed: int = 0, device: str | torch.device | None = None,
                   backend: str = "torch", log: Callable[[str], None] = print) -> VideoTestSet:
    """``sequences`` windows of ``frames`` consecutive held-out frames at ``fps`` (uniform
    random windows; two may overlap), rendered frame by frame in the real domain's look.
    One camera and one appearance per sequence (the appearance generator restarts from the
    same state at every frame, so each sequence keeps its texture, light, background and
    crop jitter); placement and crop per frame, as after tracking. Cached."""
    params = {"sequences": sequences, "frames": frames, "fps": fps, "size": image_size, "seed": seed,
              "body": body_fingerprint(body)}

    def make() -> tuple[dict[str, np.ndarray], dict]:
        index = load_index(held_out_motion_index(fps=fps, log=log), device=_device(body))
        renderer = real_look_renderer(body, index, image_size, backend)
        generator = torch.Generator(device=_device(body)).manual_seed(seed)
        windows = random_windows(index, sequences, frames, generator)
        cams = renderer.views(sequences, generator)
        appearance_seed = int(torch.randint(2**62, (1,), generator=generator, device=_device(body)))
        per_frame = [_render(renderer, windows["poses"][:, t], windows["betas"], cams["R"], cams["focal"],
                             torch.Generator(device=_device(body)).manual_seed(appearance_seed))
                     for t in progress(range(frames), frames, "rendering the embedded video test set", unit="frames")]
        arrays = {k: np.stack([f[k] for f in per_frame], axis=1) for k in per_frame[0] if k != "betas"}
        arrays.update(betas=_numpy(windows["betas"]), frame=_numpy(windows["frame"]),
                      view=_numpy(cams["R"][:, None].expand(-1, frames, -1, -1)),
                      view_focal=_numpy(cams["focal"][:, None].expand(-1, frames)))
        return arrays, _render_meta(renderer, index, backend)

    arrays, meta, path = _cached("video", params, make, _keys(VideoTestSet), log)
    return VideoTestSet(**_tensors(arrays, device or _device(body)), fps=float(fps), meta=meta, path=path)


def denoising_set(sequences: int = 64, frames: int = 64, fps: float = 30.0, noise_std: float = 0.1,
                  swap_probability: float = 0.01, drop_probability: float = 0.05, seed: int = 0,
                  device: str | torch.device = "cpu", log: Callable[[str], None] = print) -> DenoisingSet:
    """``sequences`` windows of ``frames`` held-out frames at ``fps``, corrupted: first
    mirror-swaps of limbs (an event starts at a (frame, limb) with ``swap_probability`` and
    lasts ``SWAP_FRAMES`` frames), then Gaussian noise of ``noise_std`` radians on every
    axis-angle component of every joint, then each frame dropped with ``drop_probability``
    (NaN, ``observed`` False). Made on the CPU, returned on ``device``. Cached."""
    params = {"sequences": sequences, "frames": frames, "fps": fps, "noise_std": noise_std,
              "swap_probability": swap_probability, "drop_probability": drop_probability, "seed": seed}

    def make() -> tuple[dict[str, np.ndarray], dict]:
        index = load_index(held_out_motion_index(fps=fps, log=log))
        generator = torch.Generator().manual_seed(seed)
        windows = random_windows(index, sequences, frames, generator)
        arrays = {**corrupt(windows["poses"], noise_std, swap_probability, drop_probability, generator),
                  "betas": windows["betas"], "frame": windows["frame"]}
        return {k: _numpy(v) for k, v in arrays.items()}, {"held_out": _held_out_meta(index)}

    arrays, meta, path = _cached("denoising", params, make, _keys(DenoisingSet), log)
    return DenoisingSet(**_tensors(arrays, device), fps=float(fps), meta=meta, path=path)


@dataclass
class GeneralisationSet(DenoisingSet):
    """A ``DenoisingSet`` (same fields and corruption), S = groups x windows; group (S,) str:
    the window's procedural family, or ``TURNED`` for a window of any family turned by a
    uniformly random rotation (in ``clean`` and ``noisy`` alike)."""

    group: np.ndarray


def generalisation_motion_index(fps: float = 30.0, log: Callable[[str], None] = print) -> Path:
    """Index file of the generalisation corpus (``GENERALISATION_MINUTES`` of procedural motion,
    ``GENERALISATION_SEED``), in ``$MOCAP_HMR_CACHE/generalisation_motion``."""
    return default_motion_index(fps=fps, minutes=GENERALISATION_MINUTES, seed=GENERALISATION_SEED,
                                root=cache_dir() / "generalisation_motion", log=log)


def family_of(name: str) -> str:
    """The procedural family of an index sequence name (``subject_03/jump_012.npz`` -> ``jump``)."""
    return Path(name).stem.rsplit("_", 1)[0]


def image_set_families(name: str, data: ImageTestSet, log: Callable[[str], None] = print) -> list[str]:
    """The procedural family of every sample of the image set ``name`` (``IMAGE_SETS`` or
    ``VALIDATION_SETS``) whose samples are ``data``, in sample order."""
    index = load_index(IMAGE_SPLITS[NAMED_IMAGE_SETS[name].split](log=log))
    sequence = index.frame_sequence()[data.frame.long().cpu()]
    return [family_of(index.names[int(s)]) for s in sequence]


def generalisation_set(windows_per_group: int = 8, frames: int = 64, fps: float = 30.0, noise_std: float = 0.1,
                       swap_probability: float = 0.01, drop_probability: float = 0.05, seed: int = 0,
                       device: str | torch.device = "cpu", log: Callable[[str], None] = print) -> GeneralisationSet:
    """``windows_per_group`` windows of ``frames`` frames at ``fps`` from each procedural family
    of the generalisation corpus and as many turned ones, corrupted as ``denoising_set`` does.
    Made on the CPU, returned on ``device``. Cached."""
    params = {"windows": windows_per_group, "frames": frames, "fps": fps, "noise_std": noise_std,
              "swap_probability": swap_probability, "drop_probability": drop_probability, "seed": seed}

    def make() -> tuple[dict[str, np.ndarray], dict]:
        index = load_index(generalisation_motion_index(fps=fps, log=log))
        generator = torch.Generator().manual_seed(seed)
        families = [family_of(name) for name in index.names]
        parts, groups = [], []
        for family in FAMILIES:
            subset = index.select([s for s, f in enumerate(families) if f == family])
            parts.append(random_windows(subset, windows_per_group, frames, generator))
            groups += [family] * windows_per_group
        turned = random_windows(index, windows_per_group, frames, generator)
        turn = axis_angle_to_matrix(_uniform_rotations(windows_per_group, generator))
        turned["poses"] = turned["poses"].clone()
        turned["poses"][:, :, 0] = matrix_to_axis_angle(turn[:, None] @ axis_angle_to_matrix(turned["poses"][:, :, 0]))
        parts.append(turned)
        groups += [TURNED] * windows_per_group
        clean = torch.cat([p["poses"] for p in parts])
        arrays = {**corrupt(clean, noise_std, swap_probability, drop_probability, generator),
                  "betas": torch.cat([p["betas"] for p in parts]), "frame": torch.cat([p["frame"] for p in parts])}
        arrays = {k: _numpy(v) for k, v in arrays.items()}
        arrays["group"] = np.array(groups)
        meta = {"held_out": {"seed": GENERALISATION_SEED, "minutes": GENERALISATION_MINUTES, "fps": index.fps,
                             "frames": index.num_frames}, "held_out_families": list(HELD_OUT_FAMILIES)}
        return arrays, meta

    arrays, meta, path = _cached("generalisation", params, make, _keys(GeneralisationSet), log)
    group = arrays.pop("group")
    return GeneralisationSet(**_tensors(arrays, device), group=group, fps=float(fps), meta=meta, path=path)


def _uniform_rotations(n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 3) axis-angle of rotations uniform over SO(3) (unit quaternions from a normal draw)."""
    q = torch.nn.functional.normalize(torch.randn(n, 4, generator=generator, dtype=torch.float64), dim=-1)
    q = torch.where(q[:, :1] < 0, -q, q)
    angle = 2 * torch.atan2(q[:, 1:].norm(dim=-1), q[:, 0])
    axis = torch.nn.functional.normalize(q[:, 1:], dim=-1)
    return (angle[:, None] * axis).float()


def corrupt(clean: torch.Tensor, noise_std: float, swap_probability: float, drop_probability: float,
             generator: torch.Generator) -> dict[str, torch.Tensor]:
    """clean (S, T, 24, 3) -> clean, noisy (NaN where dropped), observed (S, T), swapped (S, T, limbs):
    limb swaps, then Gaussian axis-angle noise, then dropped frames."""
    s, t = clean.shape[:2]
    swapped = _swap_events(s, t, swap_probability, generator)
    noisy = mirror_limbs(clean, swapped) + noise_std * torch.randn(clean.shape, generator=generator)
    observed = torch.rand(s, t, generator=generator) >= drop_probability
    noisy = torch.where(observed[..., None, None], noisy, torch.nan)
    return {"clean": clean, "noisy": noisy, "observed": observed, "swapped": swapped}


def limb_joints() -> torch.Tensor:
    """(len(LIMBS), 24) bool: the joints of each limb chain, left and right."""
    mask = torch.zeros(len(LIMBS), len(SMPL_JOINT_NAMES), dtype=torch.bool)
    for k, chain in enumerate(LIMB_CHAINS.values()):
        for part in chain:
            mask[k, [SMPL_JOINT_NAMES.index(f"{side}_{part}") for side in ("left", "right")]] = True
    return mask


def mirror_limbs(pose: torch.Tensor, swapped: torch.Tensor) -> torch.Tensor:
    """Mirror-swap limbs: pose (..., 24, 3) axis-angle, swapped (..., len(LIMBS)) bool -> (..., 24, 3).

    Where limb k is swapped, each joint of its chain takes the rotation of its left/right
    counterpart reflected through the sagittal plane, (x, y, z) -> (x, -y, -z): the pose a
    detector returns when it mistakes the left arm (leg) for the right one."""
    mirrored = pose[..., list(SMPL_FLIP_PERM), :] * pose.new_tensor(MIRROR)
    joints = (swapped[..., :, None] & limb_joints().to(swapped.device)).any(dim=-2)  # (..., 24)
    return torch.where(joints[..., None], mirrored, pose)


def _swap_events(sequences: int, frames: int, probability: float, generator: torch.Generator) -> torch.Tensor:
    """(S, T, len(LIMBS)) bool: frames covered by a swap event of each limb."""
    shape = (sequences, frames, len(LIMBS))
    starts = torch.rand(shape, generator=generator) < probability
    length = torch.randint(SWAP_FRAMES[0], SWAP_FRAMES[1] + 1, shape, generator=generator)
    step = torch.arange(frames)
    start = step[None, :, None, None]  # (1, T start, 1, 1)
    covers = (step >= start) & (step < start + length[..., None])  # (S, T start, L, T)
    return (starts[..., None] & covers).any(dim=1).transpose(1, 2)


def random_windows(index: MotionIndex, sequences: int, frames: int, generator: torch.Generator
                   ) -> dict[str, torch.Tensor]:
    """Uniform random windows of the index: poses (S, T, 24, 3), betas (S, 10), frame (S, T)."""
    sampler = SequenceSampler(index, window=frames, masked_frames=0.0, noise_std=0.0)
    windows = sampler.sample(sequences, generator)
    frame = windows["start"][:, None] + torch.arange(frames, device=windows["start"].device)
    return {"poses": windows["poses"], "betas": windows["betas"], "frame": frame}


def _render(renderer: SyntheticRenderer, pose: torch.Tensor, betas: torch.Tensor, view: torch.Tensor,
            focal: torch.Tensor, generator: torch.Generator) -> dict[str, np.ndarray]:
    """One rendered batch as arrays: images uint8 (n, 3, S, S) and the ground-truth fields."""
    return _arrays(renderer.render_views(pose, betas, view, focal, generator), _RENDERED)


def _arrays(batch: CropBatch, names) -> dict[str, np.ndarray]:
    """A batch as arrays to store: its images as uint8 (n, 3, S, S) and the fields ``names``."""
    images = (denormalize_images(batch.images) * 255).round().to(torch.uint8)
    return {"images": _numpy(images), **{k: _numpy(getattr(batch, k)) for k in names}}


_RENDERED = ("pose", "betas", "camera", "cam_t", "focal", "principal", "crop_kind")


def _render_meta(renderer: SyntheticRenderer, index: MotionIndex, backend: str) -> dict:
    return {"appearance": renderer_appearance(renderer), "held_out": _held_out_meta(index),
            "generated_with": {"device": _device(renderer.body).type, "backend": backend, "torch": torch.__version__}}


def _held_out_meta(index: MotionIndex) -> dict:
    return {"seed": HELD_OUT_SEED, "minutes": HELD_OUT_MINUTES, "fps": index.fps, "frames": index.num_frames}


def _device(body: BodyModel) -> torch.device:
    return body.smpl.v_template.device


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(tensor.detach().cpu().numpy())


def _keys(cls) -> tuple[str, ...]:
    """The array fields of a set dataclass (what its file holds besides ``meta``)."""
    return tuple(f.name for f in fields(cls) if f.name not in ("fps", "meta", "path"))


def _tensors(arrays: dict[str, np.ndarray], device: str | torch.device) -> dict[str, torch.Tensor]:
    """Arrays -> tensors on ``device``; uint8 images -> normalized float crops."""
    out = {k: torch.from_numpy(v).to(device) for k, v in arrays.items()}
    if "images" in out:
        out["images"] = normalize_images(out["images"].float() / 255)
    return out


def _file_name(name: str, params: dict) -> str:
    tags = "_".join(f"{k}{v:g}" if isinstance(v, float) else f"{k}{v}" for k, v in params.items())
    return f"{name}_{tags}_v{VERSION}.npz"


def _cached(name: str, params: dict, make: Callable[[], tuple[dict[str, np.ndarray], dict]],
            keys: tuple[str, ...], log: Callable[[str], None]) -> tuple[dict[str, np.ndarray], dict, Path]:
    """The set's arrays and meta from its cache file, or from ``make()`` (then written)."""
    path = benchmark_dir() / _file_name(name, params)
    if path.is_file():
        try:
            return *_read(path, name, params, keys), path
        except EmbeddedBenchmarkError as exc:
            log(f"{exc}: regenerating it")
    log(f"generating the embedded {name} benchmark (synthetic, seeded) into {path}")
    arrays, extra = make()
    meta = {"format": FORMAT, "version": VERSION, "name": name, "params": params, **extra}
    atomic_write(path, lambda fh: np.savez(fh, meta=np.array(json.dumps(meta)), **arrays))
    return arrays, json.loads(json.dumps(meta)), path


def _read(path: Path, name: str, params: dict, keys: tuple[str, ...]) -> tuple[dict[str, np.ndarray], dict]:
    """Load and check a cache file; raises ``EmbeddedBenchmarkError`` when it is not the set asked for."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        meta = json.loads(str(arrays.pop("meta")))
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as exc:
        raise EmbeddedBenchmarkError(f"{path}: cut short or corrupt ({type(exc).__name__}: {exc})") from exc
    expected = {"format": FORMAT, "version": VERSION, "name": name, "params": params}
    found = {k: meta.get(k) for k in expected}
    if found != expected:
        raise EmbeddedBenchmarkError(f"{path}: made with other settings ({found}, expected {expected})")
    missing = sorted(set(keys) - set(arrays))
    if missing:
        raise EmbeddedBenchmarkError(f"{path}: incomplete, missing {', '.join(missing)}")
    return {k: arrays[k] for k in keys}, meta
