"""Heads that compared methods attach to a torchvision ResNet's stages.

* :class:`ByotHead` (BYOT, Zhang et al., ICCV 2019; journal code
  ``ArchipLab-LinfengZhang/pytorch-self-distillation-final @ 47ca93b``, ``resnet.py``:
  ``SepConv``, ``scala1-3``, ``attention1-3``, ``fc1-4``): one per shallow stage k = 1..3;
* :func:`ensemble_gate` (ONE, Lan, Zhu, Gong, NeurIPS 2018; ``Lan1991Xu/ONE_NeurIPS2018 @ 54afde3``,
  ``models/cifar/resnet.py ONE_ResNet``): the gate over the branches' logits.

The methods (:mod:`focuslib.methods.byot`, :mod:`focuslib.methods.one`) build them in ``setup``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .base import init_conv_like_resnet


def sep_conv(c_in: int, c_out: int) -> nn.Sequential:
    """BYOT's ``SepConv``: two depthwise-separable 3x3 convolutions, the first with stride 2
    (dw3x3/s2 -> pw -> BN -> ReLU -> dw3x3 -> pw -> BN -> ReLU)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_in, 3, stride=2, padding=1, groups=c_in, bias=False),
        nn.Conv2d(c_in, c_in, 1, bias=False),
        nn.BatchNorm2d(c_in),
        nn.ReLU(),
        nn.Conv2d(c_in, c_in, 3, stride=1, padding=1, groups=c_in, bias=False),
        nn.Conv2d(c_in, c_out, 1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(),
    )


class ByotHead(nn.Module):
    """BYOT's attention, bottleneck and classifier for one shallow stage; ``channels`` runs from the
    stage's width to the deepest stage's width, e.g. ``(128, 256, 512)`` for ResNet-18's layer2.

    * attention: ``SepConv(c_k, c_k)`` (stride 2) -> bilinear up-sampling back to the stage's size ->
      sigmoid; the stage output is multiplied by this map (the backbone itself is unchanged);
    * bottleneck: ``SepConv`` chain ``c_k -> c_{k+1} -> ... -> c_4`` (each halves the resolution),
      then average pooling;
    * classifier: ``Linear(c_4, N)``.

    Two deviations from the journal code, both identities at its 32x32 input: global average
    pooling replaces ``AvgPool2d(4, 4)`` (which only pools to 1x1 on a 4x4 map, so the official
    code cannot run at 64x64), and the up-sampling goes to the stage's own size instead of
    ``scale_factor=2`` (the same for even sizes).
    """

    def __init__(self, channels: Sequence[int], num_classes: int) -> None:
        super().__init__()
        self.attention = sep_conv(channels[0], channels[0])
        self.bottleneck = nn.Sequential(
            *(sep_conv(a, b) for a, b in pairwise(channels)), nn.AdaptiveAvgPool2d(1), nn.Flatten()
        )
        self.fc = nn.Linear(channels[-1], num_classes)
        init_conv_like_resnet(self)

    def forward(self, stage_output: Tensor) -> tuple[Tensor, Tensor]:
        """Logits ``(B, N)`` and the pooled bottleneck feature ``(B, c_4)``."""
        attention = F.interpolate(
            self.attention(stage_output), size=stage_output.shape[-2:], mode="bilinear", align_corners=False
        )
        feature = self.bottleneck(torch.sigmoid(attention) * stage_output)
        return self.fc(feature), feature


def ensemble_gate(channels: int, num_branches: int) -> nn.Sequential:
    """ONE's gate over the shared feature map ``(B, channels, H, W)``: global average pool ->
    ``Linear(channels, K)`` -> ``BatchNorm1d`` -> ReLU -> softmax, giving ``(B, K)`` weights."""
    return nn.Sequential(
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(channels, num_branches),
        nn.BatchNorm1d(num_branches),
        nn.ReLU(),
        nn.Softmax(dim=1),
    )
