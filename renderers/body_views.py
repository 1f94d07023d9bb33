"""The body rendered from chosen views, shaded grey or textured over white: a body model in
rest pose and two SMPL poses from the front and the side (``build-body --preview``), and a
motion before and after smoothing from one fixed camera (``smooth --video``). The pictures
around these renders are drawn in ``mocap_hmr.vis``."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from mocap_hmr.body import SMPL_JOINT_NAMES, BodyModel
from mocap_hmr.filters import last_observed
from mocap_hmr.geometry.cameras import FLIP, tait_bryan
from renderers.rasterize import rasterize
from renderers.shading import composite, face_normals, lambert, sample_texture

_J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}

# Two SMPL poses written joint by joint (axis-angle, radians), in SMPL's conventions.
PREVIEW_POSES = {
    "walk": {
        "left_hip": (-0.5, 0, 0), "right_hip": (0.35, 0, 0), "left_knee": (0.25, 0, 0),
        "right_knee": (0.8, 0, 0), "left_shoulder": (0.3, 0, -1.2), "right_shoulder": (-0.3, 0, 1.2),
        "left_elbow": (0, -0.5, 0), "right_elbow": (0, 0.9, 0), "spine1": (0.05, 0.1, 0),
    },
    "squat-wave": {
        "left_hip": (-1.4, 0, -0.2), "right_hip": (-1.4, 0, 0.2), "left_knee": (1.9, 0, 0),
        "right_knee": (1.9, 0, 0), "left_ankle": (-0.3, 0, 0), "right_ankle": (-0.3, 0, 0),
        "spine1": (0.35, 0, 0), "left_shoulder": (0, -0.6, -1.0), "left_elbow": (0, -1.6, 0),
        "right_shoulder": (0, 0, -0.7), "right_elbow": (0, 0, -1.5), "neck": (0.2, 0, 0),
    },
}


def preview_pose_batch() -> torch.Tensor:
    """(3, 24, 3): rest pose, then the poses of ``PREVIEW_POSES``."""
    pose = torch.zeros(1 + len(PREVIEW_POSES), 24, 3)
    for i, joints in enumerate(PREVIEW_POSES.values(), start=1):
        for name, value in joints.items():
            pose[i, _J[name]] = torch.tensor(value)
    return pose


def shade(verts_cam, faces, frags, textures, vt, ft):
    """Lambert + ambient shading, textured (textures: (N, Ht, Wt, 3) in [0, 1], or None for
    grey) -> (N, H, W, 3) in [0, 1] over white."""
    n = verts_cam.shape[0]
    if textures is not None:
        albedo = sample_texture(frags, textures.permute(0, 3, 1, 2), vt, ft)
    else:
        albedo = torch.full((*frags.pix_to_face.shape[:3], 3), 0.75)
    light = F.normalize(torch.tensor([-0.4, -0.5, -1.0]), dim=0).expand(n, 3)  # from the camera, above left
    shade = lambert(frags, face_normals(verts_cam, faces), light, torch.full((n,), 0.35), torch.full((n,), 0.65))
    image, _ = composite(albedo * shade, frags, torch.ones(n, 3, *frags.pix_to_face.shape[1:3]))
    return image.permute(0, 2, 3, 1)


def render_body_views(body: BodyModel, pose: torch.Tensor, yaws: tuple[float, ...],
                      size: int = 256, textures: torch.Tensor | None = None) -> torch.Tensor:
    """Render each pose from each yaw. pose: (P, 24, 3); textures: (P, Ht, Wt, 3) in [0, 1]
    or None (grey) -> images (len(yaws), P, size, size, 3) in [0, 1]."""
    verts = body(pose).vertices.detach()  # (P, V, 3)
    rows = []
    for yaw in yaws:
        to_cam = FLIP @ tait_bryan(torch.tensor([yaw]), torch.zeros(1), torch.zeros(1))[0]  # turned by yaw
        cam = verts @ to_cam.T
        lo, hi = cam.amin(1, keepdim=True), cam.amax(1, keepdim=True)
        extent = (hi - lo)[..., :2].amax(-1, keepdim=True)  # (P, 1, 1)
        distance = 10.0
        cam = cam - (lo + hi) / 2 + torch.tensor([0.0, 0.0, distance])
        focal = (0.9 * size * distance / extent[:, 0]).expand(-1, 2)
        principal = torch.full((len(pose), 2), size / 2)
        frags = rasterize(cam, body.faces, size, focal, principal)
        vt = ft = None
        if textures is not None and body.uv is not None:
            vt, ft = torch.as_tensor(body.uv[0]).float(), torch.as_tensor(body.uv[1]).long()
        rows.append(shade(cam, body.faces, frags, textures if vt is not None else None, vt, ft))
    return torch.stack(rows)


DISTANCE = 10.0  # camera distance of the motion views (metres; the focal length frames the body)


def _vertices(body: BodyModel, rotmat: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """(N, 24, 3, 3) -> (N, V, 3) posed vertices, no translation."""
    with torch.no_grad():
        return torch.cat([body(rotmat[i:i + chunk]).vertices for i in range(0, len(rotmat), chunk)])


def hold_unobserved(rotmat: torch.Tensor) -> torch.Tensor:
    """(N, 24, 3, 3) with NaN frames -> each NaN frame replaced by the last finite one before
    it (the first finite one at the start); all identities when none is finite."""
    finite = torch.isfinite(rotmat.flatten(1)).all(1)
    if not bool(finite.any()):
        return torch.eye(3).expand_as(rotmat).clone()
    return rotmat[last_observed(finite)]


def render_motion_pair(body: BodyModel, before: torch.Tensor, after: torch.Tensor, size: int = 192,
                       yaw: float = math.radians(-25)) -> torch.Tensor:
    """before, after: (N, 24, 3, 3) rotations of the same frames -> uint8 renders (2, N, size,
    size, 3), grey body over white, before then after. One fixed camera for the whole sequence:
    in the frame of the input's first root rotation (the body upright and facing the camera,
    turned by ``yaw``, at the first frame, whether its poses are in a Y-up world frame or in an
    image model's camera frame), framed on the extent of every frame of both motions, so every
    movement on screen is the motion's own. The root translation is left out (the pelvis stays
    put). An unobserved (NaN) input frame shows the last observed one."""
    n = before.shape[0]
    before = hold_unobserved(before)
    to_cam = FLIP @ tait_bryan(torch.tensor([yaw]), torch.zeros(1), torch.zeros(1))[0] @ before[0, 0].T
    verts = torch.stack([_vertices(body, before), _vertices(body, after)]) @ to_cam.T  # (2, N, V, 3)
    lo, hi = verts.flatten(0, 2).amin(0), verts.flatten(0, 2).amax(0)
    extent = float((hi - lo)[:2].max())
    flat = (verts - (lo + hi) / 2 + torch.tensor([0.0, 0.0, DISTANCE])).flatten(0, 1)
    focal = torch.full((2 * n, 2), 0.9 * size * DISTANCE / extent)
    principal = torch.full((2 * n, 2), size / 2)
    images = []
    for first in range(0, 2 * n, 32):
        part = flat[first:first + 32]
        frags = rasterize(part, body.faces, size, focal[first:first + 32], principal[first:first + 32])
        images.append((shade(part, body.faces, frags, None, None, None).clamp(0, 1) * 255).round().byte())
    return torch.cat(images).reshape(2, n, size, size, 3)
