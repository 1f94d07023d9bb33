"""Plain appearances, for measuring how much a model depends on what a body and its
surroundings look like (the synthetic-gap study, ``mocap_hmr.studies.synthetic_gap``):
solid-colour, grey-level and pixel-noise backgrounds, and an untextured grey ("metallic") body.
The grey levels are also the embedded world's real look (``evaluation.embedded.real_look``).

Each is a drop-in for the ``SyntheticRenderer`` attribute it replaces: backgrounds have
``BackgroundSampler``'s ``sample(n, generator) -> (n, 3, S, S)``, the grey body is a
``TextureSampler`` whose every texture is one grey level (the renderer's Lambert light still
shades it).
"""

from __future__ import annotations

import torch

from samplers.textures import TextureSampler

GREY = 0.6  # albedo of the untextured body: a light grey, so shading stays visible over a black background


class SolidBackgrounds:
    """Backgrounds (n, 3, size, size) of one colour (RGB in [0, 1]; default black)."""

    def __init__(self, size: int, colour: tuple[float, float, float] = (0.0, 0.0, 0.0),
                 device: str | torch.device = "cpu"):
        self.size, self.device = size, torch.device(device)
        self.colour = torch.tensor(colour, dtype=torch.float32, device=self.device)
        if self.colour.shape != (3,) or not ((self.colour >= 0) & (self.colour <= 1)).all():
            raise ValueError(f"SolidBackgrounds: colour must be three values in [0, 1], got {colour}")

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, 3, size, size); draws nothing from ``generator``."""
        return self.colour[None, :, None, None].expand(n, 3, self.size, self.size).clone()


class GreyBackgrounds:
    """Backgrounds (n, 3, size, size), each one grey level drawn uniformly from [low, high]: a
    plain studio wall (the embedded world's real look)."""

    def __init__(self, size: int, low: float = 0.2, high: float = 0.8, device: str | torch.device = "cpu"):
        if not 0.0 <= low <= high <= 1.0:
            raise ValueError(f"GreyBackgrounds: need 0 <= low <= high <= 1, got low={low}, high={high}")
        self.size, self.low, self.high, self.device = size, low, high, torch.device(device)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, 3, size, size) drawn from ``generator`` (which lives on ``device``)."""
        level = self.low + (self.high - self.low) * torch.rand(n, 1, 1, 1, generator=generator, device=self.device)
        return level.expand(n, 3, self.size, self.size).clone()


class NoiseBackgrounds:
    """Backgrounds (n, 3, size, size) of independent uniform RGB noise in [0, 1] per pixel:
    random, but nothing like a scene."""

    def __init__(self, size: int, device: str | torch.device = "cpu"):
        self.size, self.device = size, torch.device(device)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """(n, 3, size, size) drawn from ``generator`` (which lives on ``device``)."""
        return torch.rand(n, 3, self.size, self.size, generator=generator, device=self.device)


def grey_textures(grey: float = GREY, device: str | torch.device = "cpu") -> TextureSampler:
    """A ``TextureSampler`` whose textures (n, 3, 4, 4) are all one grey level in [0, 1]: an
    untextured body, shaded by the renderer's light only."""
    if not 0.0 <= grey <= 1.0:
        raise ValueError(f"grey_textures: grey must be in [0, 1], got {grey}")
    level = round(255 * grey)
    return TextureSampler(torch.full((1, 3, 4, 4), level, dtype=torch.uint8, device=torch.device(device)))
