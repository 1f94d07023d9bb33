"""Embedded benchmarks on the tiny body: frozen in the cache (bit for bit), held-out motion
that no training corpus holds, the reference-domain look, one camera per video sequence,
and denoising corruptions that are what they claim (noise std, mirror-swaps, drops)."""

import pytest
import torch

from mocap_hmr.body.joint_maps import SMPL_JOINT_NAMES
from mocap_hmr.config import load_config
from mocap_hmr.data.default_corpus import DEFAULT_SEED, default_motion_index
from mocap_hmr.data.embedded_world import (
    GAP_FAMILIES,
    PHOTO_CAMERAS,
    REAL_FAMILIES,
    real_motion_index,
    validation_motion_index,
)
from mocap_hmr.data.motion_index import load_index
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.evaluation.embedded import (
    HELD_OUT_MINUTES,
    IMAGE_SETS,
    LIMB_CHAINS,
    LIMBS,
    SWAP_FRAMES,
    VALIDATION_SETS,
    VERSION,
    benchmark_dir,
    denoising_set,
    embedded_image_set,
    family_of,
    held_out_motion_index,
    image_test_set,
    mirror_limbs,
    real_look_renderer,
    renderer_appearance,
    video_test_set,
)
from mocap_hmr.geometry import axis_angle_to_matrix
from mocap_hmr.geometry.cameras import FLIP, tait_bryan
from mocap_hmr.imageio import denormalize_images
from mocap_hmr.paths import cache_dir
from mocap_hmr.training.runner import build_streams
from renderers.appearance import suit_texture
from samplers.crops import FULL

QUIET = {"log": lambda message: None}


@pytest.fixture(scope="module")
def body(tiny_body):
    return tiny_body


@pytest.fixture(scope="module")
def held_out(body):
    return load_index(held_out_motion_index(**QUIET))


def _equal(a, b, names):
    """Bit for bit (NaN included): same dtype, shape and bytes."""
    for name in names:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and x.shape == y.shape and x.numpy().tobytes() == y.numpy().tobytes(), name


IMAGE_FIELDS = ("images", "pose", "betas", "camera", "cam_t", "focal", "principal", "crop_kind", "view",
                "view_focal", "frame", "angles")
DENOISING_FIELDS = ("clean", "noisy", "observed", "swapped", "betas", "frame")


def test_image_set_is_frozen_in_the_cache_and_regenerates_bit_for_bit(body):
    logs = []
    first = image_test_set(body, image_size=32, n=8, seed=5, log=logs.append)
    assert first.path.parent == benchmark_dir() and first.path.is_file()
    assert first.path.name.endswith(f"_v{VERSION}.npz")
    assert any("generating" in m for m in logs)
    logs.clear()
    loaded = image_test_set(body, image_size=32, n=8, seed=5, log=logs.append)
    assert not any("generating" in m for m in logs)
    _equal(first, loaded, IMAGE_FIELDS)
    assert loaded.meta == first.meta
    first.path.unlink()
    _equal(first, image_test_set(body, image_size=32, n=8, seed=5, **QUIET), IMAGE_FIELDS)
    other = image_test_set(body, image_size=32, n=8, seed=6, **QUIET)
    assert other.path != first.path and not torch.equal(other.pose, first.pose)


def test_the_real_look_is_the_suit_on_grey_walls(body):
    index = load_index(held_out_motion_index(**QUIET))
    renderer = real_look_renderer(body, index, 32)
    batch = renderer.sample(6, torch.Generator().manual_seed(2))
    images = denormalize_images(batch.images).permute(0, 2, 3, 1)  # (n, S, S, 3)
    wall = images[batch.masks[:, 0] == 0]  # (P, 3)
    assert (wall.amax(1) - wall.amin(1)).max() < 1e-5 and 0.2 - 1e-5 <= wall.min() and wall.max() <= 0.8 + 1e-5
    suit = suit_texture(body, renderer.textures.size).float() / 255
    assert torch.equal(renderer.textures.sample(2, torch.Generator().manual_seed(0)), suit.expand(2, -1, -1, -1))
    assert renderer_appearance(renderer)["clothed"] == 0.0 and renderer.augment is None


@pytest.mark.parametrize("damage", ["cut", "garbage"])
def test_a_bad_cache_file_is_reported_and_regenerated(body, damage):
    first = denoising_set(sequences=3, frames=8, seed=11, **QUIET)
    data = first.path.read_bytes()
    first.path.write_bytes(data[: len(data) // 2] if damage == "cut" else b"not a benchmark")
    logs = []
    again = denoising_set(sequences=3, frames=8, seed=11, log=logs.append)
    assert any("cut short or corrupt" in m and "regenerating" in m and str(first.path) in m for m in logs), logs
    _equal(first, again, DENOISING_FIELDS)
    assert first.path.read_bytes() == data


def test_image_set_fields_come_from_held_out_motion(body, held_out):
    images = image_test_set(body, image_size=32, n=8, seed=5, **QUIET)
    n = 8
    assert images.images.shape == (n, 3, 32, 32) and images.images.dtype == torch.float32
    for name, shape in (("pose", (n, 24, 3)), ("betas", (n, 10)), ("camera", (n, 3)), ("cam_t", (n, 3)),
                        ("focal", (n, 2)), ("principal", (n, 2)), ("crop_kind", (n,)), ("view", (n, 3, 3)),
                        ("view_focal", (n,)), ("frame", (n,)), ("angles", (n, 3))):
        assert getattr(images, name).shape == shape, name
    assert len(set(images.frame.tolist())) == n
    assert torch.equal(images.pose[:, 1:], held_out.poses[images.frame, 1:])
    assert torch.equal(images.betas, held_out.betas[held_out.frame_sequence()[images.frame]])
    assert (images.crop_kind == FULL).all()
    assert images.meta["held_out"]["seed"] != DEFAULT_SEED
    yaw, pitch, roll = images.angles.unbind(-1)
    torch.testing.assert_close(images.view, tait_bryan(yaw, pitch, roll))


@pytest.mark.parametrize("name", list(IMAGE_SETS))
def test_the_named_image_sets_draw_only_their_families_and_cameras(body, held_out, name):
    data = embedded_image_set(body, name, image_size=32, n=24, **QUIET)
    recipe = IMAGE_SETS[name]
    families = {family_of(held_out.names[s]) for s in held_out.frame_sequence()[data.frame].tolist()}
    assert families <= set(recipe.families) and len(families) > 1
    assert torch.equal(data.pose[:, 1:], held_out.poses[data.frame, 1:])
    limits = torch.tensor([(recipe.cameras or {"yaw": 180.0, "pitch": 45.0, "roll": 15.0})[k]
                           for k in ("yaw", "pitch", "roll")])
    assert (data.angles.rad2deg().abs() <= limits).all()
    if recipe.cameras is None:  # the paper's full ranges: views the photo cameras never take
        assert (data.angles[:, 1].rad2deg().abs() > PHOTO_CAMERAS["pitch"]).any()
    assert data.meta["families"] == list(recipe.families) and data.meta["params"]["seed"] == recipe.seed
    assert data.meta["cameras"] == pytest.approx(recipe.cameras or {"yaw": 180.0, "pitch": 45.0, "roll": 15.0})


def test_the_named_image_sets_split_the_embedded_world(body):
    assert set(IMAGE_SETS["embedded-in-coverage"].families) == set(REAL_FAMILIES)
    assert set(IMAGE_SETS["embedded-pose-gap"].families) == set(GAP_FAMILIES)
    assert not set(GAP_FAMILIES) & set(REAL_FAMILIES)
    assert IMAGE_SETS["embedded-in-coverage"].cameras == IMAGE_SETS["embedded-pose-gap"].cameras == PHOTO_CAMERAS
    assert IMAGE_SETS["embedded-view-gap"].cameras is None
    assert len({r.seed for r in IMAGE_SETS.values()}) == len(IMAGE_SETS)
    paths = {embedded_image_set(body, name, image_size=32, n=4, **QUIET).path for name in IMAGE_SETS}
    default = image_test_set(body, image_size=32, n=4, **QUIET).path
    assert len(paths | {default}) == 4 and "families" not in default.name and "cameras" not in default.name
    with pytest.raises(MocapHMRError, match="no embedded image set"):
        embedded_image_set(body, "embedded-image", image_size=32, n=4, **QUIET)
    with pytest.raises(MocapHMRError, match="families must be some of"):
        image_test_set(body, image_size=32, n=4, families=("moonwalk",), **QUIET)


def test_validation_sets_are_the_test_recipes_on_subjects_no_test_set_holds(body, held_out):
    validation = load_index(validation_motion_index(**QUIET))
    betas = {tuple(b.tolist()) for b in held_out.betas}
    assert not betas & {tuple(b.tolist()) for b in validation.betas}  # other subjects
    assert set(VALIDATION_SETS) == {n.replace("embedded-", "validation-") for n in IMAGE_SETS}
    for name, recipe in IMAGE_SETS.items():
        twin = VALIDATION_SETS[name.replace("embedded-", "validation-")]
        assert (twin.families, twin.cameras, twin.split, recipe.split) == (recipe.families, recipe.cameras,
                                                                          "validation", "test")
    test = embedded_image_set(body, "embedded-pose-gap", image_size=32, n=8, **QUIET)
    val = embedded_image_set(body, "validation-pose-gap", image_size=32, n=8, **QUIET)
    assert val.path != test.path and "validation" in val.path.name and val.meta["split"] == "validation"
    truth = {tuple(b.tolist()) for b in validation.betas}
    assert {tuple(b.tolist()) for b in val.betas} <= truth and not {tuple(b.tolist()) for b in test.betas} & truth
    sequence = validation.frame_sequence()
    assert {family_of(validation.names[int(sequence[int(f)])]) for f in val.frame} <= set(GAP_FAMILIES)
    with pytest.raises(MocapHMRError, match="split must be one of test, validation"):
        image_test_set(body, image_size=32, n=4, split="train", **QUIET)


@pytest.fixture(scope="module")
def training_corpora(body):
    """The main corpus at the held-out corpus's size and the real domain's, as training builds them."""
    main = default_motion_index(minutes=HELD_OUT_MINUTES, seed=DEFAULT_SEED, root=cache_dir() / "train_motion",
                                **QUIET)
    return main, real_motion_index(**QUIET)


def test_the_real_half_is_the_real_domain_not_the_mocap_look(body, tiny_body_dir, training_corpora, tmp_path):
    overrides = {"out_dir": str(tmp_path), "device": "cpu", "body.model_path": str(tiny_body_dir),
                 "motion.index": str(training_corpora[0]), "render.image_size": 32, "render.backend": "torch",
                 "stand_in_spin.images": 16}
    cfg = load_config(None, [f"{k}={v}" for k, v in overrides.items()])
    synthetic, real = build_streams(cfg, body, torch.device("cpu"), **QUIET)
    assert len(real) == 16 and synthetic.textures.clothed > 0 and synthetic.augment is not None
    test_look = image_test_set(body, image_size=32, n=8, seed=5, **QUIET).meta["appearance"]
    assert test_look["clothed"] == 0.0 and test_look["augment"] is False
    assert renderer_appearance(synthetic)["clothed"] != test_look["clothed"]
    batch = real.sample(4, torch.Generator().manual_seed(0))
    assert batch.images.shape == (4, 3, 32, 32) and batch.has_smpl.all()


def _nearest(a, b, chunk=1024):
    """(N,) distance of each row of a (N, D) to its nearest row of b (M, D)."""
    return torch.cat([torch.cdist(a[i:i + chunk], b, compute_mode="donot_use_mm_for_euclid_dist").amin(1)
                      for i in range(0, len(a), chunk)])


def test_held_out_poses_are_in_no_training_corpus(held_out, training_corpora):
    body_joints = slice(1, 22)  # the root's orientation says nothing about the pose
    ours = held_out.poses[:, body_joints].flatten(1)
    for path in training_corpora:
        theirs = load_index(path).poses[:, body_joints].flatten(1)
        assert _nearest(theirs[::50], theirs).max() == 0  # the check finds a pose that is there
        assert _nearest(ours, theirs).min() > 0.05, path


def test_video_set_keeps_one_camera_and_look_per_sequence(body):
    video = video_test_set(body, image_size=32, sequences=2, frames=6, seed=1, **QUIET)
    held_out = load_index(held_out_motion_index(fps=video.fps, **QUIET))
    s, t = 2, 6
    assert video.images.shape == (s, t, 3, 32, 32) and video.pose.shape == (s, t, 24, 3)
    assert video.betas.shape == (s, 10) and video.focal.shape == (s, t, 2) and video.view.shape == (s, t, 3, 3)
    assert torch.equal(video.view, video.view[:, :1].expand_as(video.view))
    assert torch.equal(video.view_focal, video.view_focal[:, :1].expand_as(video.view_focal))
    assert not torch.equal(video.view[0, 0], video.view[1, 0])
    assert (video.frame.diff(dim=1) == 1).all()
    assert torch.equal(video.pose[..., 1:, :], held_out.poses[video.frame][..., 1:, :])
    # the camera the stored camera-frame roots imply is the sequence's view at every frame
    world_root = axis_angle_to_matrix(held_out.poses[video.frame][..., 0, :])
    implied = FLIP @ axis_angle_to_matrix(video.pose[..., 0, :]) @ world_root.transpose(-1, -2)
    torch.testing.assert_close(implied, video.view, atol=1e-4, rtol=0)
    # one background per sequence: many pixels repeat from frame to frame, few across sequences
    same = (video.images[:, 0] == video.images[:, -1]).all(dim=1).float().mean()
    across = (video.images[0] == video.images[1]).all(dim=1).float().mean()
    assert same > 0.3 and across < 0.05, (same, across)


def test_denoising_noise_has_the_requested_std(body):
    clean_only = {"swap_probability": 0.0, "drop_probability": 0.0}
    data = denoising_set(sequences=32, frames=32, noise_std=0.1, seed=2, **clean_only, **QUIET)
    assert data.clean.shape == data.noisy.shape == (32, 32, 24, 3)
    assert data.observed.all() and not data.swapped.any()
    error = data.noisy - data.clean
    assert abs(error.std().item() - 0.1) < 0.003 and abs(error.mean().item()) < 0.003
    assert (error.std(dim=(0, 1, 3)) > 0.09).all()  # every joint, the root included


def _mirror_swapped(clean, limbs):
    """Expected pose (24, 3) of one frame with ``limbs`` swapped, from the joint names."""
    out = clean.clone()
    for limb in limbs:
        for part in LIMB_CHAINS[limb]:
            left, right = (SMPL_JOINT_NAMES.index(f"{side}_{part}") for side in ("left", "right"))
            out[left] = clean[right] * torch.tensor([1.0, -1.0, -1.0])
            out[right] = clean[left] * torch.tensor([1.0, -1.0, -1.0])
    return out


def test_swapped_frames_are_mirror_swaps_of_limbs(body):
    data = denoising_set(sequences=6, frames=40, noise_std=0.0, swap_probability=0.05, drop_probability=0.0, seed=3,
                         **QUIET)
    assert data.swapped.shape == (6, 40, len(LIMBS)) and data.swapped.any(dim=(0, 1)).all()
    assert 0 < data.swapped.float().mean() < 0.6
    for s in range(6):
        for t in range(40):
            limbs = [limb for k, limb in enumerate(LIMBS) if data.swapped[s, t, k]]
            assert torch.equal(data.noisy[s, t], _mirror_swapped(data.clean[s, t], limbs)), (s, t, limbs)
    runs = []  # lengths of the swapped runs that end before the last frame
    for track in data.swapped.permute(0, 2, 1).reshape(-1, 40).tolist():
        length = 0
        for on in track + [False]:
            if not on and length:
                runs.append(length)
            length = length + 1 if on else 0
        if track[-1]:
            runs.pop()
    assert runs and min(runs) >= SWAP_FRAMES[0]


def test_mirror_swap_twice_gives_the_pose_back():
    pose = torch.randn(5, 24, 3, generator=torch.Generator().manual_seed(0))
    swapped = torch.tensor([[True, False], [False, True], [True, True], [False, False], [True, False]])
    once = mirror_limbs(pose, swapped)
    assert not torch.equal(once, pose)
    assert torch.equal(mirror_limbs(once, swapped), pose)


def test_observed_mask_matches_the_dropped_frames(body):
    data = denoising_set(sequences=8, frames=50, drop_probability=0.3, seed=4, **QUIET)
    nan = data.noisy.isnan()
    assert torch.equal(nan.all(dim=(-1, -2)), ~data.observed)
    assert torch.equal(nan.any(dim=(-1, -2)), ~data.observed)
    assert not data.clean.isnan().any()
    assert abs((~data.observed).float().mean().item() - 0.3) < 0.08


def test_denoising_set_loads_as_it_was_generated(body):
    first = denoising_set(sequences=4, frames=10, seed=9, drop_probability=0.2, **QUIET)
    assert not first.observed.all()
    _equal(first, denoising_set(sequences=4, frames=10, seed=9, drop_probability=0.2, **QUIET), DENOISING_FIELDS)
    first.path.unlink()
    _equal(first, denoising_set(sequences=4, frames=10, seed=9, drop_probability=0.2, **QUIET), DENOISING_FIELDS)


def test_too_many_images_is_a_clear_error(body, held_out):
    with pytest.raises(MocapHMRError, match="held-out frames"):
        image_test_set(body, image_size=32, n=held_out.num_frames + 1, **QUIET)
    jumps = sum(family_of(held_out.names[s]) == "jump" for s in held_out.frame_sequence().tolist())
    with pytest.raises(MocapHMRError, match=f"the {jumps} held-out frames of jump"):
        image_test_set(body, image_size=32, n=jumps + 1, families=("jump",), **QUIET)
