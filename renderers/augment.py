"""Photometric augmentations for image batches in [0, 1], on the device, drawn from a
``torch.Generator`` (so runs stay reproducible) and applied with kornia's operators. The
real-image stream uses the same ``augment`` so both halves of a batch see the same noise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import kornia.enhance
import kornia.filters
import torch


@dataclass
class PhotometricAugment:
    """Colour jitter (brightness, contrast, saturation: factors within 1 +- the given
    amount), SPIN's per-channel pixel gain U[0.6, 1.4], Gaussian blur (probability
    ``blur``, sigma up to ``blur_sigma`` px) and Gaussian pixel noise (std up to ``noise``)."""

    brightness: float = 0.3
    contrast: float = 0.3
    saturation: float = 0.3
    channel_gain: tuple[float, float] = (0.6, 1.4)
    blur: float = 0.3
    blur_sigma: float = 1.5
    noise: float = 0.03

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """images (B, 3, H, W) in [0, 1] -> augmented (B, 3, H, W) in [0, 1]."""
        n, device = images.shape[0], images.device
        u = torch.rand(n, 10, generator=generator, device=device)

        def factor(column: int, amount: float) -> torch.Tensor:
            return 1 + amount * (2 * u[:, column] - 1)

        out = kornia.enhance.adjust_brightness(images, factor(0, self.brightness) - 1)
        out = kornia.enhance.adjust_contrast(out, factor(1, self.contrast))
        out = kornia.enhance.adjust_saturation(out, factor(2, self.saturation))
        lo, hi = self.channel_gain
        out = out * (lo + (hi - lo) * u[:, 3:6])[:, :, None, None]
        if self.blur > 0:
            sigma = (0.1 + (self.blur_sigma - 0.1) * u[:, 6:7]).expand(n, 2).contiguous()
            kernel = 2 * math.ceil(2 * self.blur_sigma) + 1
            blurred = kornia.filters.gaussian_blur2d(out, kernel, sigma)
            out = torch.where((u[:, 7] < self.blur)[:, None, None, None], blurred, out)
        if self.noise > 0:
            std = self.noise * u[:, 8, None, None, None]
            out = out + std * torch.randn(out.shape, generator=generator, device=device)
        return out.clamp(0, 1)
