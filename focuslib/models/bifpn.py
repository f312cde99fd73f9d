"""FRSKD's self-teacher: the BiFPNc network of Ji, Shin, Hwang, Park, Moon, *Refine Myself by
Teaching Myself: Feature Refinement via Self-Knowledge Distillation*, CVPR 2021 (arXiv:2103.08273v1);
official code ``MingiJi/FRSKD @ 98b87e5`` (``models/bifpnc.py``, ``models/utils.py``), summarised in
``shared/reference/methods.md`` §10. The method (loss and step) is :mod:`focuslib.methods.frskd`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import Conv2dNormActivation


def _pointwise(in_channels: int, out_channels: int) -> nn.Module:
    """1x1 conv (no bias) - BN - ReLU (the official ``DepthConvBlock`` with kernel 1)."""
    return Conv2dNormActivation(in_channels, out_channels, kernel_size=1)


def _separable(channels: int, depth: int) -> nn.Sequential:
    """``depth`` units of [ReLU (not the first)] depth-wise 3x3, point-wise 1x1, BN."""
    layers: list[nn.Module] = []
    for unit in range(depth):
        if unit:
            layers.append(nn.ReLU())
        layers += [
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
        ]
    return nn.Sequential(*layers)


def _max_pool_same(x: Tensor) -> Tensor:
    """3x3 / stride-2 max-pool with TensorFlow-style "same" zero padding (official ``utils.py``).

    Output size ``ceil(H/2)``, the size of a ResNet stage's stride-2 output.
    """
    pads = []
    for size in (x.shape[-1], x.shape[-2]):
        extra = max((math.ceil(size / 2) - 1) * 2 + 3 - size, 0)
        pads += [extra // 2, extra - extra // 2]
    return F.max_pool2d(F.pad(x, pads), kernel_size=3, stride=2)


def _fuse(weights: Tensor, inputs: Sequence[Tensor], eps: float = 1e-6) -> Tensor:
    """Fast normalised fusion ``sum_j relu(w_j) x_j / (sum_j relu(w_j) + eps)`` (EfficientDet)."""
    w = F.relu(weights)
    w = w / (w.sum() + eps)
    return sum(w_j * x_j for w_j, x_j in zip(w, inputs))


class BiFPNSelfTeacher(nn.Module):
    """FRSKD's self-teacher: one BiFPN layer over the classifier's stage features plus a head.

    For input levels ``i = 0..L-1`` with ``c_i`` channels (``C_i = w c_i`` inside):

    * lateral ``L_i = pw(c_i -> C_i)(relu F_i)`` for all levels and a second lateral
      ``L2_i`` for levels ``1..L-1``;
    * top-down ``P_{L-1} = L_{L-1}``,
      ``P_i = sep(fuse(relu L_i, pw(C_{i+1} -> C_i)(up(relu P_{i+1}))))``;
    * bottom-up ``Q_0 = P_0``,
      ``Q_i = sep(fuse(relu L2_i, relu P_i, pw(C_{i-1} -> C_i)(pool(relu Q_{i-1}))))``,
      without the ``P`` term at the top level;
    * outputs ``relu Q_i``; head: global average pool of the top output, ``Linear(C_{L-1}, N)``.

    ``up`` is nearest up-sampling to the finer level's size (the official x2 up-sampling when
    the sizes double; odd sizes work too), ``pool`` a "same" 3x3/2 max-pool, ``sep``
    :func:`_separable` of the given depth. With a small-input ResNet-18 (N = 200, w = 2, d = 2)
    it has the official BiFPNc's 6,478,294 parameters.
    """

    def __init__(self, in_channels: Sequence[int], num_classes: int, width: int = 2, depth: int = 2) -> None:
        super().__init__()
        if len(in_channels) < 2:
            raise ValueError(f"BiFPNSelfTeacher needs at least 2 feature levels, got {list(in_channels)}")
        if width < 1 or depth < 1:
            raise ValueError(f"width and depth must be >= 1, got width={width}, depth={depth}")
        c = list(in_channels)
        ch = [width * ci for ci in c]
        top = len(c) - 1
        self.lateral = nn.ModuleList(_pointwise(c[i], ch[i]) for i in range(len(c)))
        self.lateral2 = nn.ModuleList(_pointwise(c[i], ch[i]) for i in range(1, len(c)))
        self.up_proj = nn.ModuleList(_pointwise(ch[i + 1], ch[i]) for i in range(top))
        self.up_conv = nn.ModuleList(_separable(ch[i], depth) for i in range(top))
        self.up_weight = nn.ParameterList(nn.Parameter(torch.ones(2)) for _ in range(top))
        self.down_proj = nn.ModuleList(_pointwise(ch[i - 1], ch[i]) for i in range(1, len(c)))
        self.down_conv = nn.ModuleList(_separable(ch[i], depth) for i in range(1, len(c)))
        self.down_weight = nn.ParameterList(
            nn.Parameter(torch.ones(3 if i < top else 2)) for i in range(1, len(c))
        )
        self.fc = nn.Linear(ch[-1], num_classes)

    def forward(self, features: Sequence[Tensor]) -> tuple[list[Tensor], Tensor]:
        """Refined feature maps (one per level, same sizes) and the self-teacher's logits."""
        if len(features) != len(self.lateral):
            raise ValueError(f"expected {len(self.lateral)} feature maps, got {len(features)}")
        lat = [conv(F.relu(f)) for conv, f in zip(self.lateral, features)]
        lat2 = [conv(F.relu(f)) for conv, f in zip(self.lateral2, features[1:])]
        top = len(lat) - 1

        td = [lat[top]]  # top-down, built from the top level; td[0] is the finest so far
        for i in reversed(range(top)):
            up = F.interpolate(F.relu(td[0]), size=lat[i].shape[-2:], mode="nearest")
            td.insert(0, self.up_conv[i](_fuse(self.up_weight[i], [F.relu(lat[i]), self.up_proj[i](up)])))

        out = [td[0]]
        for i in range(1, top + 1):
            down = self.down_proj[i - 1](_max_pool_same(F.relu(out[-1])))
            inputs = [F.relu(lat2[i - 1])] + ([F.relu(td[i])] if i < top else []) + [down]
            out.append(self.down_conv[i - 1](_fuse(self.down_weight[i - 1], inputs)))

        out = [F.relu(o) for o in out]
        logits = self.fc(torch.flatten(F.adaptive_avg_pool2d(out[-1], 1), 1))
        return out, logits
