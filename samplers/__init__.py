"""Batched, seeded samplers on the caller's device: poses, sequences, cameras and crops
(textures and backgrounds come with the renderer). Each ``sample`` takes a
``torch.Generator`` living on the device of the data. Samplers never import
mocap_hmr.training."""

from samplers.cameras import CameraSampler
from samplers.crops import CropSampler
from samplers.poses import PoseSampler
from samplers.sequences import SequenceSampler

__all__ = ["CameraSampler", "CropSampler", "PoseSampler", "SequenceSampler"]
