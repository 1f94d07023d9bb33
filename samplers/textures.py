"""UV textures for the rendered bodies, batched on the caller's device.

Default: the body's own skin textures with procedural clothes painted in UV space: a top
(no, short or long sleeves), a bottom (shorts or trousers) and shoes, each a random
colour, plain, striped or mottled. Which texel a garment covers comes from a *part map*
(``renderers.appearance.uv_part_map``): each texel labelled with the SMPL joint driving its
face, so garments follow the body. Without a part map (textures from a folder,
SURREAL-style), textures are used as they are.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from mocap_hmr.body import SMPL_JOINT_NAMES

_J = {name: i for i, name in enumerate(SMPL_JOINT_NAMES)}
# Body parts (SMPL joints driving the faces) each piece of clothing covers.
TORSO = [_J[n] for n in ("spine1", "spine2", "spine3", "left_collar", "right_collar")]
UPPER_ARMS = [_J["left_shoulder"], _J["right_shoulder"]]
FOREARMS = [_J["left_elbow"], _J["right_elbow"]]
HIPS = [_J["pelvis"], _J["left_hip"], _J["right_hip"]]
SHINS = [_J["left_knee"], _J["right_knee"]]
FEET = [_J[n] for n in ("left_ankle", "right_ankle", "left_foot", "right_foot")]


class TextureSampler:
    """Random textures (n, 3, S, S) in [0, 1] on the device of ``skins``.

    skins: uint8 (K, 3, S, S) base textures; part_map: (S, S) long SMPL joint per texel (-1
    unmapped) to paint clothes with, or None to use the textures as they are; clothed: the
    probability that a texture gets clothes."""

    def __init__(self, skins: torch.Tensor, part_map: torch.Tensor | None = None, clothed: float = 0.9):
        self.skins, self.parts, self.clothed = skins, part_map, clothed
        self.size, self.device = skins.shape[-1], skins.device
        if part_map is not None:
            self.coverage = self._coverage_table()

    def _coverage_table(self) -> torch.Tensor:
        """(3 garments, 3 lengths, 25 parts) bool: which parts garment g of length l covers
        (part index 24 stands for unmapped texels)."""
        table = torch.zeros(3, 3, 25, dtype=torch.bool)
        sleeves = [TORSO, TORSO + UPPER_ARMS, TORSO + UPPER_ARMS + FOREARMS]
        legs = [HIPS, HIPS, HIPS + SHINS]
        for length in range(3):
            table[0, length, sleeves[length]] = True
            table[1, length, legs[length]] = True
            table[2, length, FEET] = True
        return table.to(self.device)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, 3, size, size) float in [0, 1]."""
        pick = torch.randint(len(self.skins), (n,), generator=generator, device=self.device)
        skin = self.skins[pick].float() / 255
        if self.parts is None:
            return skin
        return self._dress(skin, generator)

    def _dress(self, skin: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Paint each sample's garments over its skin in one pass: garments cover disjoint
        parts, so every texel gets at most one (-1: skin)."""
        n, device = skin.shape[0], self.device
        u = torch.rand(n, 16, generator=generator, device=device)
        wears = u[:, 0] < self.clothed
        length = torch.stack([(u[:, 1] * 3).long(), (u[:, 2] * 3).long(), torch.zeros_like(u[:, 0]).long()], 1)
        worn = torch.stack([wears, wears, wears & (u[:, 3] < 0.9)], 1)  # (n, garment): shoes 90% of the time
        colours = _random_colours(u[:, 4:13].reshape(n, 3, 3))  # (n, garment, rgb)
        pattern = _patterns(u[:, 13:16], self.size, generator)  # (n, 1, S, S)
        garment_of_part = torch.full((n, 25), -1, dtype=torch.long, device=device)
        for garment in range(3):
            covers = self.coverage[garment][length[:, garment]] & worn[:, garment, None]  # (n, 25)
            garment_of_part = torch.where(covers, garment, garment_of_part)
        texel_part = torch.where(self.parts >= 0, self.parts, 24)  # (S, S)
        garment = garment_of_part[:, texel_part]  # (n, S, S)
        cloth = colours[torch.arange(n, device=device)[:, None, None], garment.clamp(min=0)].permute(0, 3, 1, 2)
        cloth = cloth * torch.where((garment < 2)[:, None], pattern, 1.0)  # shoes stay plain
        return torch.where((garment >= 0)[:, None], cloth, skin)


def _random_colours(u: torch.Tensor) -> torch.Tensor:
    """(..., 3) uniforms -> (..., 3) RGB garment colours from HSV (any hue, muted to vivid)."""
    return hsv_to_rgb(u[..., 0], 0.15 + 0.75 * u[..., 1], 0.15 + 0.8 * u[..., 2])


def hsv_to_rgb(hue: torch.Tensor, saturation: torch.Tensor | float, value: torch.Tensor | float) -> torch.Tensor:
    """Hues (...,) in [0, 1), saturations and values in [0, 1] (tensors broadcasting with them,
    or numbers) -> (..., 3) RGB in [0, 1]."""
    s, v = (torch.as_tensor(x, dtype=hue.dtype, device=hue.device)[..., None] for x in (saturation, value))
    k = (torch.tensor([5.0, 3.0, 1.0], dtype=hue.dtype, device=hue.device) + 6 * hue[..., None]) % 6
    return v - v * s * torch.minimum(k, 4 - k).clamp(0, 1)


def _patterns(u: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 1, size, size) brightness patterns: plain, stripes or mottled (a third each)."""
    n, device = u.shape[0], u.device
    kind = (u[:, 0] * 3).long()
    v = torch.arange(size, device=device, dtype=torch.float32) / size
    freq = 20 + 60 * u[:, 1]
    stripes = 0.75 + 0.25 * torch.sign(torch.sin(2 * math.pi * freq[:, None] * v[None]))  # (n, size) along v
    stripes = stripes[:, None, :, None].expand(n, 1, size, size)
    coarse = torch.rand(n, 1, 16, 16, generator=generator, device=device)
    mottled = 0.8 + 0.3 * F.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)
    plain = torch.ones(n, 1, size, size, device=device)
    return torch.where((kind == 0)[:, None, None, None], plain,
                       torch.where((kind == 1)[:, None, None, None], stripes, mottled))
