"""The embedded image test set's scenes as renderer inputs, to render them again with another
appearance (synthetic-gap) or to train on them (oracle).

The set stores, per sample, the pose with its root in the camera frame, the view rotation and
focal length, and the crop's intrinsics. ``stored_scenes`` turns these back into what
``SyntheticRenderer.render_views`` takes (the Y-up world pose and the crop boxes), and
``render_scenes`` renders chosen samples with ``FixedCrops``: the same body, camera and crop
as the stored image, only the appearance (texture, light, background) is drawn anew.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mocap_hmr.data.crop_batch import CropBatch
from mocap_hmr.evaluation.embedded import ImageTestSet
from mocap_hmr.geometry import axis_angle_to_matrix, matrix_to_axis_angle
from mocap_hmr.geometry.cameras import FLIP
from renderers.synthetic import SyntheticRenderer


@dataclass
class StoredScenes:
    """N scenes: pose (N, 24, 3) axis-angle, Y-up world root; betas (N, 10); view (N, 3, 3);
    focal (N,) in image sizes; centre (N, 2), size (N,) crop boxes in pixels of the uncropped
    image (``CropSampler``'s); kind (N,) crop kinds."""

    pose: torch.Tensor
    betas: torch.Tensor
    view: torch.Tensor
    focal: torch.Tensor
    centre: torch.Tensor
    size: torch.Tensor
    kind: torch.Tensor

    def __len__(self) -> int:
        return len(self.pose)

    def to(self, device) -> StoredScenes:
        return StoredScenes(*(getattr(self, k).to(device) for k in self.__dataclass_fields__))


def stored_scenes(data: ImageTestSet, image_size: int) -> StoredScenes:
    """Invert the set's camera-frame roots and crop intrinsics (see ``SyntheticRenderer.place``:
    root_cam = FLIP view root_world; crop focal = f zoom, principal = (S/2 - centre + side/2) zoom,
    zoom = S / side, f = view_focal S)."""
    to_cam = FLIP.to(data.view) @ data.view
    root = matrix_to_axis_angle(to_cam.transpose(1, 2) @ axis_angle_to_matrix(data.pose[:, 0]))
    pose = torch.cat([root[:, None], data.pose[:, 1:]], dim=1)
    zoom = data.focal[:, 0] / (data.view_focal * image_size)
    side = image_size / zoom
    centre = image_size / 2 + side[:, None] / 2 - data.principal / zoom[:, None]
    return StoredScenes(pose, data.betas, data.view, data.view_focal, centre, side, data.crop_kind)


class FixedCrops:
    """``CropSampler``'s interface, returning given boxes: centre (n, 2), size (n,), kind (n,)."""

    def __init__(self, centre: torch.Tensor, size: torch.Tensor, kind: torch.Tensor):
        self.centre, self.size, self.kind = centre, size, kind

    def sample(self, joints2d: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
        if len(joints2d) != len(self.size):
            raise ValueError(f"FixedCrops holds {len(self.size)} boxes, asked for {len(joints2d)}")
        return {"centre": self.centre, "size": self.size, "kind": self.kind}


def render_scenes(renderer: SyntheticRenderer, scenes: StoredScenes, pick: torch.Tensor,
                  generator: torch.Generator, view: torch.Tensor | None = None, focal: torch.Tensor | None = None,
                  pose: torch.Tensor | None = None) -> CropBatch:
    """Samples ``pick`` (n,) of ``scenes`` rendered by ``renderer`` in their stored crops; ``view``
    (n, 3, 3), ``focal`` (n,) and ``pose`` (n, 24, 3) replace the stored ones where given (the
    crops are then the renderer's own, as a box only fits its own camera)."""
    stored_camera = view is None and focal is None
    view = scenes.view[pick] if view is None else view
    focal = scenes.focal[pick] if focal is None else focal
    pose = scenes.pose[pick] if pose is None else pose
    if not stored_camera:
        return renderer.render_views(pose, scenes.betas[pick], view, focal, generator)
    return renderer.render_views(pose, scenes.betas[pick], view, focal, generator,
                                 crops=FixedCrops(scenes.centre[pick], scenes.size[pick], scenes.kind[pick]))
