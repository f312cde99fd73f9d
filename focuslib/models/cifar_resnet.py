"""ResNet-20, He et al.'s CIFAR-10 ResNet (CVPR 2016, Sec. 4.2): our addition, for CIFAR-10 at a
reduced protocol on the CPU (FocusNet itself uses ResNet-18 there).

**Architecture** (He et al. Sec. 4.2): "The first layer is 3x3 convolutions. Then we use a stack
of 6n layers with 3x3 convolutions on the feature maps of sizes {32, 16, 8} respectively, with 2n
layers for each feature map size. The numbers of filters are {16, 32, 64} respectively. The
subsampling is performed by convolutions with a stride of 2. The network ends with a global
average pooling, a 10-way fully-connected layer, and softmax." ResNet-20 is n = 3: three stages
of three basic blocks (two 3x3 conv + batch norm layers each), stride 2 at the first block of
stages 2 and 3.

**Shortcuts: option A.** "On this dataset we use identity shortcuts in all cases (i.e., option
A), so our residual models have exactly the same depth, width, and number of parameters as the
plain counterparts." Option A (Sec. 3.3) is the identity "with extra zero entries padded for
increasing dimensions" and, across feature-map sizes, "performed with a stride of 2": here the
input is subsampled at stride 2 and zero channels are appended. It has no parameters.

**Parameters** (10 classes, hand count): stem conv 3*16*9 = 432 + BN 32; stage 1: six 16->16
convs (2,304 each) + six BNs (32 each) = 14,016; stage 2: 16->32 (4,608) + five 32->32 (9,216) +
six BNs (64) = 51,072; stage 3: 32->64 (18,432) + five 64->64 (36,864) + six BNs (128) = 203,520;
linear 64*10 + 10 = 650. Total 269,722, He et al.'s Table 6 "0.27M". (Option B's 1x1 projection
shortcuts with batch norm would add 576 + 2,176 = 2,752, giving 272,474.)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from .base import MODELS, Family, init_conv_like_resnet, register_family

#: He et al. Sec. 4.2: filters per stage; ResNet-20 has n = 3 blocks per stage (6n + 2 = 20 layers).
STAGE_WIDTHS = (16, 32, 64)
BLOCKS_PER_STAGE = 3


def _conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Two 3x3 conv + batch-norm layers with an option-A (parameter-free) shortcut."""

    def __init__(self, in_channels: int, out_channels: int, stride: int) -> None:
        super().__init__()
        self.conv1, self.bn1 = _conv3x3(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels)
        self.conv2, self.bn2 = _conv3x3(out_channels, out_channels), nn.BatchNorm2d(out_channels)
        self.stride, self.extra_channels = stride, out_channels - in_channels

    def shortcut(self, x: Tensor) -> Tensor:
        """Option A: the identity, subsampled at the block's stride, with zero channels appended."""
        if self.stride > 1:
            x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra_channels)) if self.extra_channels else x

    def forward(self, x: Tensor) -> Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


def _stage(in_channels: int, out_channels: int, stride: int) -> nn.Sequential:
    blocks = [BasicBlock(in_channels, out_channels, stride)]
    blocks += [BasicBlock(out_channels, out_channels, 1) for _ in range(BLOCKS_PER_STAGE - 1)]
    return nn.Sequential(*blocks)


class CifarResNet(nn.Module):
    """ResNet-20 for 32x32 images: 3x3 stem, ``layer1``..``layer3``, global average pooling, ``fc``."""

    def __init__(self, num_classes: int, in_channels: int = 3) -> None:
        super().__init__()
        w1, w2, w3 = STAGE_WIDTHS
        self.conv1, self.bn1 = _conv3x3(in_channels, w1), nn.BatchNorm2d(w1)
        self.layer1, self.layer2, self.layer3 = _stage(w1, w1, 1), _stage(w1, w2, 2), _stage(w2, w3, 2)
        self.fc = nn.Linear(w3, num_classes)
        init_conv_like_resnet(self)  # He et al. initialise "as in [13]" (He init); torchvision's choice

    def stages_and_pooled(self, x: Tensor) -> tuple[list[Tensor], Tensor]:
        """Outputs of ``layer1``..``layer3`` (post-ReLU) and the pooled ``(B, 64)`` features."""
        h = F.relu(self.bn1(self.conv1(x)))
        stages = []
        for layer in (self.layer1, self.layer2, self.layer3):
            h = layer(h)
            stages.append(h)
        return stages, torch.flatten(F.adaptive_avg_pool2d(h, 1), 1)

    def forward(self, x: Tensor) -> Tensor:
        return self.fc(self.stages_and_pooled(x)[1])


@MODELS.register("resnet20")
def resnet20(num_classes: int, in_channels: int = 3, small_input: bool = False) -> CifarResNet:
    """:class:`CifarResNet`; ``small_input`` has no effect (the network is built for 32x32 images:
    3x3 stem, no max-pool, down-sampling by 4)."""
    return CifarResNet(num_classes, in_channels)


register_family(Family(CifarResNet, features=lambda m, x: m.stages_and_pooled(x)[1], head=lambda m: m.fc))
