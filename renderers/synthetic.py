"""``SyntheticRenderer``: AMASS poses -> rendered training crops, the whole batch on the device.

Per batch: poses and betas from the corpus, a Tait-Bryan viewpoint and a focal length, the
body placed in front of the camera, a crop box around its projected joints (sometimes only
the upper body), then the textured body rasterized straight into the crop (the crop is a
change of intrinsics, nothing is resampled), lit, composited over a background and
optionally augmented (``PhotometricAugment``, as the real stream) and normalized like
SPIN's real crops.

Coordinates. Camera frame: OpenCV axes (x right, y down, z forward), metres. Crop pixels:
column x, row y, pixel centres at half-integers. ``joints2d`` use SPIN's normalized crop
coordinates, 2 * pixel / S - 1 in [-1, 1], with a visibility column. A joint is invisible
when it falls outside the crop, lies more than ``OCCLUSION_MARGIN`` behind the surface
seen at its pixel (another body part is in front of it), or is below the cut of an
upper-body crop.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from mocap_hmr.body import SPIN_JOINT_NAMES, BodyModel
from mocap_hmr.data.crop_batch import CropBatch
from mocap_hmr.errors import MocapHMRError
from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_axis_angle
from mocap_hmr.geometry.cameras import FLIP, place_in_front, project, weak_perspective
from mocap_hmr.imageio import normalize_images
from renderers.augment import PhotometricAugment
from renderers.rasterize import rasterize
from renderers.shading import composite, face_normals, lambert, sample_texture
from samplers.backgrounds import BackgroundSampler
from samplers.cameras import CameraSampler
from samplers.crops import TO_HIPS, TO_KNEES, CropSampler
from samplers.poses import PoseSampler
from samplers.textures import TextureSampler

OCCLUSION_MARGIN = 0.15  # metres behind the visible surface: about a torso's half-thickness
_BELOW_HIPS = tuple(i for i, n in enumerate(SPIN_JOINT_NAMES) if any(k in n for k in ("Knee", "Ankle", "Toe", "Heel")))
_BELOW_KNEES = tuple(i for i in _BELOW_HIPS if "Knee" not in SPIN_JOINT_NAMES[i])


@dataclass
class Scene:
    """Bodies placed before their cameras: verts (n, V, 3), joints (n, 49, 3) camera frame;
    focal, principal (n, 2) crop intrinsics; crop_kind (n,); pose (n, 24, 3) root in the
    camera frame; cam_t (n, 3) (see ``CropBatch``)."""

    verts: torch.Tensor
    joints: torch.Tensor
    focal: torch.Tensor
    principal: torch.Tensor
    crop_kind: torch.Tensor
    pose: torch.Tensor
    cam_t: torch.Tensor


class SyntheticRenderer:
    """Renders ``CropBatch``es of ``image_size`` px crops on the device of ``body``."""

    def __init__(self, body: BodyModel, poses: PoseSampler, textures: TextureSampler,
                 backgrounds: BackgroundSampler, cameras: CameraSampler | None = None,
                 crops: CropSampler | None = None, image_size: int = 224, backend: str = "auto",
                 augment: PhotometricAugment | None = None):
        if body.J_regressor_extra is None or not body.has_vertex_joints:
            raise MocapHMRError(
                f"{body.model_file}: rendering training crops needs SPIN's 49 joints: put SPIN's "
                "J_regressor_extra.npy next to the model (the stand-in body has its own)"
            )
        if body.uv is None:
            raise MocapHMRError(f"{body.model_file}: the body model has no UV coordinates (vt, ft) to texture it")
        self.body, self.poses, self.textures, self.backgrounds = body, poses, textures, backgrounds
        self.cameras, self.crops = cameras or CameraSampler(), crops or CropSampler()
        self.size, self.backend, self.augment = image_size, backend, augment
        device = body.smpl.v_template.device
        self.vt = torch.as_tensor(body.uv[0], dtype=torch.float32, device=device)
        self.ft = torch.as_tensor(body.uv[1], dtype=torch.long, device=device)

    def sample(self, n: int, generator: torch.Generator) -> CropBatch:
        """A batch of ``n`` random renderings."""
        frames = self.poses.sample(n, generator)
        cams = self.views(n, generator)
        return self.render_views(frames["pose"], frames["betas"], cams["R"], cams["focal"], generator)

    def views(self, n: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """``n`` viewpoints as this renderer draws them (``CameraSampler.sample``'s dict)."""
        return self.cameras.sample(n, generator)

    def render_targets(self, pose: torch.Tensor, betas: torch.Tensor, has_target: torch.Tensor,
                       generator: torch.Generator) -> CropBatch:
        """One rendering per target: pose (n, 24, 3) with its root in the camera frame and betas
        (n, 10), as that camera sees them, where ``has_target`` (n,); elsewhere a pose of the
        motion corpus from a drawn viewpoint, so that nothing without a target is rendered as
        ground truth."""
        n = len(pose)
        cams = self.views(n, generator)
        pose, betas = pose.clone(), betas.clone()
        flip = FLIP.to(cams["R"])
        view = torch.where(has_target[:, None, None], flip.expand(n, 3, 3), cams["R"])  # FLIP @ FLIP: no turn
        missing = int((~has_target).sum())
        if missing:
            frames = self.poses.sample(missing, generator)
            pose[~has_target], betas[~has_target] = frames["pose"], frames["betas"]
        return self.render_views(pose, betas, view, cams["focal"], generator)

    def render_views(self, pose: torch.Tensor, betas: torch.Tensor, view: torch.Tensor, focal: torch.Tensor,
                     generator: torch.Generator, crops: CropSampler | None = None) -> CropBatch:
        """pose (n, 24, 3) Y-up world; betas (n, 10); view (n, 3, 3) view rotations; focal (n,)
        in units of the image size. Crops (from ``crops`` where given, else the renderer's),
        textures, lights and backgrounds are drawn here."""
        scene = self.place(pose, betas, view, focal, generator, crops)
        frags = rasterize(scene.verts, self.body.faces, self.size, scene.focal, scene.principal, backend=self.backend)
        images, masks = self.shade(scene.verts, frags, generator)
        if self.augment is not None:
            images = self.augment(images, generator)
        return CropBatch(
            images=normalize_images(images), masks=masks,
            joints2d=self._joints2d(scene.joints, frags, scene.focal, scene.principal, scene.crop_kind),
            joints3d=scene.joints, joints3d_conf=scene.joints.new_ones(scene.joints.shape[:2]),
            pose=scene.pose, betas=betas,
            camera=weak_perspective(scene.cam_t, scene.focal, scene.principal, self.size), cam_t=scene.cam_t,
            focal=scene.focal, principal=scene.principal, crop_kind=scene.crop_kind,
            has_smpl=torch.ones(len(betas), dtype=torch.bool, device=betas.device),
            has_3d=torch.ones(len(betas), dtype=torch.bool, device=betas.device),
        )

    def place(self, pose: torch.Tensor, betas: torch.Tensor, view: torch.Tensor, focal: torch.Tensor,
              generator: torch.Generator, crops: CropSampler | None = None) -> Scene:
        """Skin the bodies, put them in front of the cameras and choose the crops (with ``crops``
        where given, else the renderer's)."""
        n, size = pose.shape[0], self.size
        out = self.body(pose, betas)
        to_cam = FLIP.to(view) @ view  # (n, 3, 3) world -> OpenCV camera axes
        t = place_in_front(out.vertices @ view.transpose(1, 2), focal)
        verts = out.vertices @ to_cam.transpose(1, 2) + t[:, None]
        joints = out.spin_joints @ to_cam.transpose(1, 2) + t[:, None]
        smpl_joints = out.joints @ to_cam.transpose(1, 2) + t[:, None]
        # the crop: a box around the projected joints of a virtual image of size S
        f_img = (focal * size)[:, None].expand(n, 2)
        c_img = torch.full((n, 2), size / 2, device=pose.device)
        box = (crops or self.crops).sample(project(smpl_joints, f_img, c_img), generator)
        zoom = size / box["size"][:, None]
        root = matrix_to_axis_angle(to_cam @ axis_angle_to_matrix(pose[:, 0]))
        pelvis = out.joints[:, :1]  # (n, 1, 3): the root joint, which its own rotation does not move
        return Scene(verts=verts, joints=joints, focal=f_img * zoom,
                     principal=(c_img - box["centre"] + box["size"][:, None] / 2) * zoom, crop_kind=box["kind"],
                     pose=torch.cat([root[:, None], pose[:, 1:]], dim=1),
                     cam_t=t + (pelvis @ to_cam.transpose(1, 2) - pelvis)[:, 0])

    def shade(self, verts: torch.Tensor, frags, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Textured, lit bodies over backgrounds: images (n, 3, S, S) in [0, 1], masks (n, 1, S, S)."""
        n, device = verts.shape[0], verts.device
        u = torch.rand(n, 4, generator=generator, device=device)
        # light from the camera's side of the body, up to about 60 degrees off the optical axis
        light = F.normalize(torch.cat([1.7 * (2 * u[:, :2] - 1), -torch.ones(n, 1, device=device)], 1), dim=1)
        ambient, diffuse = 0.3 + 0.3 * u[:, 2], 0.4 + 0.4 * u[:, 3]
        albedo = sample_texture(frags, self.textures.sample(n, generator), self.vt, self.ft)
        shade = lambert(frags, face_normals(verts, self.body.faces), light, ambient, diffuse)
        images, masks = composite(albedo * shade, frags, self.backgrounds.sample(n, generator))
        return images.clamp(0, 1), masks

    def _joints2d(self, joints, frags, focal, principal, kind):
        """(n, 49, 3): normalized crop coordinates and visibility (see the module docstring)."""
        size = self.size
        pixels = project(joints, focal, principal)
        inside = ((pixels >= 0) & (pixels < size)).all(-1)
        col, row = (pixels.detach().floor().long().clamp(0, size - 1)).unbind(-1)
        batch = torch.arange(joints.shape[0], device=joints.device)[:, None]
        front = frags.zbuf[batch, row, col, 0]  # (n, 49); -1 where nothing is drawn
        hidden = (front > 0) & (joints[..., 2] > front + OCCLUSION_MARGIN)
        below_cut = torch.zeros_like(inside)
        below_cut[:, list(_BELOW_HIPS)] = (kind == TO_HIPS)[:, None]
        below_cut[:, list(_BELOW_KNEES)] |= (kind == TO_KNEES)[:, None]
        visible = inside & ~hidden & ~below_cut
        return torch.cat([2 * pixels / size - 1, visible[..., None].to(pixels.dtype)], dim=-1)
