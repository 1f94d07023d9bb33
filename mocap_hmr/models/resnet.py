"""ResNet backbones with torchvision's / SPIN's parameter names (no torchvision import).

``resnet50`` (Bottleneck blocks, 2048 features) is SPIN's; ``resnet18`` (basic blocks,
512 features) and ``tiny`` (three small stages, 64 features) are for quick CPU runs.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + (self.downsample(x) if self.downsample is not None else x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + (self.downsample(x) if self.downsample is not None else x))


# name -> (block, blocks per stage, channels per stage)
ARCHITECTURES = {
    "resnet50": (Bottleneck, (3, 4, 6, 3), (64, 128, 256, 512)),
    "resnet18": (BasicBlock, (2, 2, 2, 2), (64, 128, 256, 512)),
    "tiny": (BasicBlock, (1, 1, 1), (16, 32, 64)),
}


class ResNet(nn.Module):
    """Stem (conv1, bn1, maxpool) + stages layer1..layerN; ``forward`` returns pooled
    features (B, feature_dim) for images (B, 3, H, W) (global average pooling, which is
    SPIN's 7x7 pooling at 224 px)."""

    def __init__(self, name: str = "resnet50"):
        super().__init__()
        if name not in ARCHITECTURES:
            raise ValueError(f"backbone '{name}' is not one of {', '.join(ARCHITECTURES)}")
        block, blocks, channels = ARCHITECTURES[name]
        self.inplanes = channels[0]
        self.conv1 = nn.Conv2d(3, channels[0], 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(channels[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.stages = []
        for i, (n, planes) in enumerate(zip(blocks, channels, strict=True)):
            stage = self._make_layer(block, planes, n, stride=1 if i == 0 else 2)
            setattr(self, f"layer{i + 1}", stage)
            self.stages.append(f"layer{i + 1}")
        self.feature_dim = channels[-1] * block.expansion
        for m in self.modules():
            if isinstance(m, nn.Conv2d):  # SPIN's initialisation
                m.weight.data.normal_(0, math.sqrt(2.0 / (m.kernel_size[0] * m.kernel_size[1] * m.out_channels)))
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()

    def _make_layer(self, block, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion),
            )
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for name in self.stages:
            x = getattr(self, name)(x)
        return x.mean(dim=(2, 3))
