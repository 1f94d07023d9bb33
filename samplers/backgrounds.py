"""Backgrounds for the rendered crops, batched on the caller's device.

With a folder of photographs (LSUN exports, COCO ... searched recursively, decoded once
into memory at ``cache_size`` px): random square crops of random scale, flips and colour
jitter. Without one: procedural backgrounds -- vertical gradients with a floor line,
low-frequency colour noise, and rectangles like furniture and windows -- so a run needs no
download. ``photo_fraction`` sets how many samples come from photographs when both exist.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from samplers.images import load_image_folder


class BackgroundSampler:
    """Random backgrounds (n, 3, size, size) in [0, 1]."""

    def __init__(self, size: int, folder: str | Path | None = None, cache_size: int = 256,
                 limit: int | None = 5000, device: str | torch.device = "cpu"):
        self.size, self.device = size, torch.device(device)
        self.photos = None
        if folder is not None:
            self.photos = load_image_folder(folder, cache_size, "background", limit=limit).to(self.device)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        if self.photos is None:
            return procedural_backgrounds(n, self.size, generator)
        return self._photo_crops(n, generator)

    def _photo_crops(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Random crops (a third to all of the side), flips, brightness/contrast/colour jitter."""
        device = self.device
        u = torch.rand(n, 8, generator=generator, device=device)
        pick = torch.randint(len(self.photos), (n,), generator=generator, device=device)
        scale = 1 / 3 + (2 / 3) * u[:, 0]
        centre = (1 - scale)[:, None] * (2 * u[:, 1:3] - 1)  # keep the crop inside the photo
        flip = torch.where(u[:, 3] < 0.5, -1.0, 1.0)
        theta = torch.zeros(n, 2, 3, device=device)
        theta[:, 0, 0], theta[:, 1, 1] = scale * flip, scale
        theta[:, :, 2] = centre
        grid = F.affine_grid(theta, (n, 3, self.size, self.size), align_corners=False)
        images = F.grid_sample(self.photos[pick].float() / 255, grid, align_corners=False)
        gain = (0.6 + 0.8 * u[:, 4:7])[:, :, None, None]  # per-channel, as SPIN's pixel noise
        return (images * gain).clamp(0, 1)


def procedural_backgrounds(n: int, size: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 3, size, size) in [0, 1]: wall/floor gradient, coarse colour noise, and a few
    random rectangles."""
    device = generator.device
    u = torch.rand(n, 6, generator=generator, device=device)
    rows = torch.linspace(0, 1, size, device=device)[None, None, :, None]
    # muted wall and floor colours: a grey level plus a small tint
    wall = (0.25 + 0.6 * u[:, 0, None]) + 0.3 * (u[:, 1:4] - 0.5)
    floor = 0.7 * ((0.2 + 0.6 * u[:, 4, None]) + 0.3 * (u[:, 1:4].flip(1) - 0.5))
    wall, floor = wall[:, :, None, None], floor[:, :, None, None]
    horizon = (0.4 + 0.4 * u[:, 5])[:, None, None, None]
    image = torch.where(rows < horizon, wall * (0.7 + 0.3 * rows / horizon), floor)
    noise = torch.rand(n, 3, 6, 6, generator=generator, device=device) - 0.5
    image = image + 0.1 * F.interpolate(noise, size=(size, size), mode="bicubic", align_corners=False)
    corner = torch.rand(n, 4, 2, generator=generator, device=device)  # 4 rectangles per image
    extent = 0.05 + 0.35 * torch.rand(n, 4, 2, generator=generator, device=device)
    colour = 0.15 + 0.7 * torch.rand(n, 4, 3, generator=generator, device=device)
    coords = torch.linspace(0, 1, size, device=device)
    for k in range(4):
        lo, hi = corner[:, k, :, None], corner[:, k, :, None] + extent[:, k, :, None]  # (n, 2, 1)
        inside = (coords >= lo) & (coords <= hi)  # (n, 2, size): x then y
        mask = (inside[:, 1, :, None] & inside[:, 0, None, :])[:, None]  # (n, 1, size, size)
        image = torch.where(mask, 0.4 * image + 0.6 * colour[:, k, :, None, None], image)
    return image.clamp(0, 1)
