"""The pytorch3d backend against the torch backend, wherever pytorch3d imports (its CPU
kernel included; CUDA runs the binned kernel too): every ``Fragments`` field, then
``SyntheticRenderer``'s images and 2D joint labels.

The torch backend is the reference: it is checked against closed forms and a float64 brute
force in test_torch_rasterizer.py. The two backends compute in float32 in different spaces
(pixels here, NDC in pytorch3d), so a pixel centre that lies on a face edge, or where two
faces are at the same depth, may go either way: such pixels are "ambiguous" (within 1e-3
px of an edge of a face either backend lists there, or two listed faces within 1e-4 m of
depth). Every other pixel must list the same faces, in the same order; pixels that differ
must be rare; where the faces agree, depth, barycentrics and edge distances must agree to
float32 rounding of pixel-sized triangles.
"""

import pytest
import torch

from mocap_hmr.body import BodyModel
from mocap_hmr.data.default_corpus import default_motion_index
from mocap_hmr.data.motion_index import load_index
from mocap_hmr.geometry.cameras import project
from renderers import Fragments, pytorch3d_available, rasterize
from renderers.build import build_renderer

pytestmark = pytest.mark.skipif(not pytorch3d_available(), reason="pytorch3d does not import here")

DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]
EDGE_PX = 1e-3  # pixels: a pixel centre this close to a face edge may fall on either side
DEPTH_TIE = 1e-4  # metres: two faces this close in depth at a pixel may come in either order
ZBUF_TOL = 1e-4  # metres, at depths of 2-30 m: float32 rounding
BARY_TOL = 2e-3  # barycentrics of faces a few pixels wide, from float32 NDC vs pixel coordinates
DISTS_TOL = 1e-6  # NDC units squared
MAX_DIFFER = 0.002  # of covered pixels: where the backends may list other faces (ambiguous ones)


def _ambiguous(a: Fragments, b: Fragments, height: int, width: int) -> torch.Tensor:
    """(N, H, W) bool: pixels whose faces may legitimately differ between the backends."""
    px_per_ndc = min(height, width) / 2
    near_edge = torch.zeros(a.pix_to_face.shape[:3], dtype=torch.bool, device=a.pix_to_face.device)
    near_tie = torch.zeros_like(near_edge)
    for frags in (a, b):
        hit = frags.pix_to_face >= 0
        edge_px = frags.dists.abs().sqrt() * px_per_ndc
        near_edge |= (hit & (edge_px < EDGE_PX)).any(-1)
        both = hit[..., 1:] & hit[..., :-1]
        near_tie |= (both & ((frags.zbuf[..., 1:] - frags.zbuf[..., :-1]).abs() < DEPTH_TIE)).any(-1)
    # two faces at one depth at a pixel tie wherever a list shows them: also across the backends
    listed_both = (a.pix_to_face >= 0) & (b.pix_to_face >= 0)
    near_tie |= (listed_both & ((a.zbuf - b.zbuf).abs() < DEPTH_TIE)
                 & (a.pix_to_face != b.pix_to_face)).any(-1)
    return near_edge | near_tie


def assert_fragments_agree(a: Fragments, b: Fragments) -> None:
    """a: torch backend, b: pytorch3d backend, (N, H, W, K) fields each."""
    assert a.pix_to_face.shape == b.pix_to_face.shape and b.bary_coords.shape == (*b.pix_to_face.shape, 3)
    height, width = a.pix_to_face.shape[1:3]
    covered = (a.pix_to_face[..., 0] >= 0) | (b.pix_to_face[..., 0] >= 0)
    assert covered.sum() > 100, "the scene should cover some pixels"
    ambiguous = _ambiguous(a, b, height, width)
    differ = (a.pix_to_face != b.pix_to_face).any(-1)
    assert not (differ & ~ambiguous).any(), \
        f"{(differ & ~ambiguous).sum().item()} pixels list other faces without being ambiguous"
    assert differ[covered].float().mean() <= MAX_DIFFER
    same = (a.pix_to_face == b.pix_to_face) & (a.pix_to_face >= 0)
    assert same.any()
    torch.testing.assert_close(b.zbuf[same], a.zbuf[same], atol=ZBUF_TOL, rtol=0)
    torch.testing.assert_close(b.bary_coords[same], a.bary_coords[same], atol=BARY_TOL, rtol=0)
    torch.testing.assert_close(b.dists[same], a.dists[same], atol=DISTS_TOL, rtol=0)
    assert (b.dists[same] <= 0).all()  # inside the face: negative, pytorch3d's sign
    empty = ~(b.pix_to_face >= 0)
    assert (b.zbuf[empty] == -1).all() and (b.dists[empty] == -1).all() and (b.bary_coords[empty] == -1).all()


def both_backends(verts, faces, image_size, focal, principal=None, k=1) -> tuple[Fragments, Fragments]:
    return tuple(rasterize(verts, faces, image_size, focal, principal, backend=backend, faces_per_pixel=k)
                 for backend in ("torch", "pytorch3d"))


def _soup(batch, device):
    """Random triangles, overlapping in depth, 2-2.5 m before the camera: verts (B, 60, 3), faces (40, 3)."""
    gen = torch.Generator().manual_seed(0)
    verts = torch.rand(batch, 60, 3, generator=gen) * torch.tensor([1.0, 1.0, 0.5]) + torch.tensor([-0.5, -0.5, 2.0])
    faces = torch.randint(0, 60, (40, 3), generator=gen)
    return verts.to(device), faces.to(device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("image_size, focal, principal", [
    ((48, 64), 60.0, None),  # landscape: the shorter side is the height
    ((64, 48), 60.0, None),  # portrait: the shorter side is the width
    ((48, 64), [[55.0, 70.0]], (20.0, 30.5)),  # fx != fy, principal point off the centre
    ((40, 40), 90.0, (-5.0, 45.0)),  # principal point outside the image: the soup is cut by two borders
])
def test_triangle_soup_fragments_agree(device, k, image_size, focal, principal):
    verts, faces = _soup(4, device)
    assert_fragments_agree(*both_backends(verts, faces, image_size, torch.tensor(focal), principal, k))


@pytest.fixture(scope="module")
def tiny_parts(tiny_body_dir, tmp_path_factory):
    body = BodyModel(tiny_body_dir)
    index = load_index(default_motion_index(minutes=0.3, root=tmp_path_factory.mktemp("m") / "motion",
                                            log=lambda m: None))
    return body, index


def training_scenes(body, index, size, n, seed):
    """SyntheticRenderer's own placement: (verts (n, V, 3), focal (n, 2), principal (n, 2)) of
    n random training crops (Tait-Bryan cameras, crops off the body centre, upper-body cuts)."""
    renderer = build_renderer(body, index, image_size=size, backend="torch", augment=False)
    g = torch.Generator().manual_seed(seed)
    frames, cams = renderer.poses.sample(n, g), renderer.views(n, g)
    scene = renderer.place(frames["pose"], frames["betas"], cams["R"], cams["focal"], g)
    return scene.verts, scene.focal, scene.principal


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("size, n, shift", [  # the default and the paper's crop sizes; principal point moves x S
    (64, 8, (0.0, 0.0)), (64, 8, (0.4, -0.3)), (64, 8, (-0.5, 0.45)), (224, 2, (0.0, 0.0)), (224, 2, (-0.5, 0.45)),
])
def test_tiny_body_training_crops_agree(tiny_parts, size, n, k, shift):
    """Bodies in training crops, then moved off centre and partly out of the frame."""
    body, index = tiny_parts
    verts, focal, principal = training_scenes(body, index, size, n, seed=size + k)
    principal = principal + torch.tensor(shift) * size
    assert_fragments_agree(*both_backends(verts, body.faces, size, focal, principal, k))
    if shift != (0.0, 0.0):  # every body is partly out of the frame
        pixels = project(verts, focal, principal)
        assert ((pixels < 0) | (pixels >= size)).any(-1).any(-1).all()


@pytest.mark.gpu
def test_tiny_body_training_crops_agree_on_cuda(tiny_parts):
    """On CUDA pytorch3d rasterizes coarse-to-fine in bins: the paper's batch of 32 at 224 px."""
    body, index = tiny_parts
    verts, focal, principal = training_scenes(body, index, 224, 32, seed=0)
    assert_fragments_agree(*both_backends(verts.cuda(), body.faces.cuda(), 224, focal.cuda(), principal.cuda(), 2))


@pytest.mark.slow
@pytest.mark.parametrize("size, n, shift", [(64, 2, (0.0, 0.0)), (96, 1, (-0.4, 0.3))])
def test_standin_body_training_crops_agree(standin_body_dir, size, n, shift):
    """The stand-in body (27,420 faces) at the default crop size and at 96 px off centre, K = 2.
    Its faces are about a pixel wide or less here, so most pixels lie near an edge or a
    vertex: the hardest case for agreement (224 px is left to the tiny body: pytorch3d's CPU
    kernel tests every face at every pixel, about 20 s for one stand-in crop)."""
    body = BodyModel(standin_body_dir)
    index = load_index(default_motion_index())
    verts, focal, principal = training_scenes(body, index, size, n, seed=size)
    assert_fragments_agree(*both_backends(verts, body.faces, size, focal, principal + torch.tensor(shift) * size, 2))


def test_synthetic_batches_agree(tiny_parts):
    """SyntheticRenderer with each backend, same seed, tiny body, 64 px, augmentation on.

    Images: where the two rasterizations list the same faces (every pixel but the ambiguous
    few), the shaded pixels agree within 2e-3 in normalized units (about 5e-4 of the [0, 1]
    colour range): barycentrics differ by float32 rounding and the texture lookup is
    bilinear, so a colour moves by at most bary difference x texel gradient; elsewhere
    (ambiguous pixels) a neighbouring face's colour may show. joints2d: the coordinates come
    from the same projection and must be equal; a joint's visibility reads zbuf at its pixel,
    where the depths agree within ZBUF_TOL, and must be equal too."""
    body, index = tiny_parts
    batches = {}
    for backend in ("torch", "pytorch3d"):
        renderer = build_renderer(body, index, image_size=64, backend=backend)
        batches[backend] = renderer.sample(8, torch.Generator().manual_seed(3))
    a, b = batches["torch"], batches["pytorch3d"]
    assert torch.equal(a.joints2d[..., :2], b.joints2d[..., :2])
    assert torch.equal(a.joints2d[..., 2], b.joints2d[..., 2])
    assert a.joints2d[..., 2].sum() > 100  # many visible joints to compare
    assert (a.masks != b.masks).float().mean() <= MAX_DIFFER
    close = (a.images - b.images).abs().amax(1) <= 2e-3  # (8, 64, 64)
    assert close.float().mean() >= 1 - MAX_DIFFER
    assert a.masks.mean() > 0.05  # the comparison covers bodies, not only backgrounds
