"""MobileNetV2 at width 0.5 (Sandler et al., CVPR 2018), built by torchvision's ``MobileNetV2``.

FocusNet (Sec. 4.2) multiplies every layer's width by 0.5 and, for 32x32/64x64 data, "adjusts the
stride of the first and fourth convolutional layers to 1", so the network down-samples by 8.

**Which layers.** Sandler et al.'s Table 2 lists the network as rows, each with a stride ``s``:
1 conv2d 3x3 (s 2), 2 bottleneck c16 (s 1), 3 c24 (s 2), 4 c32 (s 2), 5 c64 (s 2), 6 c96 (s 1),
7 c160 (s 2), 8 c320 (s 1). FocusNet's official code (``models/mobilenet.py``, torchvision's
MobileNetV2) mirrors these rows: the stem conv, then one ``[t, c, n, s]`` entry per bottleneck row,
so "the first and fourth" are rows 1 and 4: the stem conv and the first block of the c32 stage.
That is the default here (``unit_stride_rows=(1, 4)`` when ``small_input``). Widely used CIFAR
ports instead keep stride 2 in the c32 stage and change the c24 stage, i.e. rows (1, 3); pass
``unit_stride_rows=(1, 3)`` for that reading. Both down-sample by 8, as the paper says.

**Counts** (200 classes; FLOPs from ``torch.utils.flop_counter``, FLOPs = 2 x MACs):

* parameters: 943,880 whatever the strides (strides hold no weights) -> Table 4's 0.94 M.
* FLOPs at 64x64: rows (1, 4) 0.183 G, rows (1, 3) 0.224 G, stem only (1,) 0.063 G,
  unmodified (stride 32) 0.016 G. At 32x32 divide by about 4 (0.046 G, 0.056 G, 0.016 G, 0.004 G).

Table 4's 0.02 G is therefore **not reachable at the paper's stated setting**: with the stride
change at 64x64 (where the ResNet FLOPs of Table 4 fit) the network costs 0.18 G, about 9x the
printed value (0.22 G, 11x, for rows (1, 3)). The final 1x1 conv alone (160 -> 1280 channels on
an 8x8 map) costs 2 * 64 * 160 * 1280 = 26.2 M FLOPs, more than 0.02 G. The printed 0.02 G
matches the *unmodified* network at 64x64 (0.016 G), or only the stem changed at 32x32 (0.016 G),
or MACs (not FLOPs) of rows (1, 4) at 32x32 (0.023 G); which one the authors measured cannot be
told from the paper.
"""

from __future__ import annotations

from collections.abc import Sequence

import torchvision
from torch import Tensor
from torch.nn import functional as F
from torchvision.models import MobileNetV2

from .base import MODELS, Family, new_conv, register_family

WIDTH_MULT = 0.5

#: Sandler et al. (2018) Table 2, bottleneck rows 2..8 as ``[t, c, n, s]`` (expansion, channels,
#: repeats, stride of the first block); row 1 is the stride-2 stem conv.
SANDLER_BOTTLENECKS: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
)
STRIDED_ROWS = (1,) + tuple(row for row, (*_, s) in enumerate(SANDLER_BOTTLENECKS, start=2) if s == 2)
"""Rows of Table 2 with stride 2: (1, 3, 4, 5, 7)."""
PAPER_UNIT_STRIDE_ROWS = (1, 4)
"""FocusNet's "first and fourth convolutional layers" (see the module docstring)."""


@MODELS.register("mobilenetv2_x0_5")
def mobilenetv2_x0_5(num_classes: int, in_channels: int = 3, small_input: bool = False,
                     unit_stride_rows: Sequence[int] | None = None, dropout: float = 0.2) -> MobileNetV2:
    """torchvision's ``MobileNetV2(width_mult=0.5)`` (untrained) with stride 1 in ``unit_stride_rows``.

    ``unit_stride_rows`` are rows of Sandler et al.'s Table 2 (1 = stem conv); ``None`` means
    :data:`PAPER_UNIT_STRIDE_ROWS` when ``small_input`` else none. ``dropout`` (torchvision's 0.2)
    precedes the final linear layer.
    """
    rows = tuple(unit_stride_rows) if unit_stride_rows is not None else (
        PAPER_UNIT_STRIDE_ROWS if small_input else ())
    bad = [r for r in rows if r not in STRIDED_ROWS]
    if bad:
        raise ValueError(f"unit_stride_rows {bad} are not stride-2 rows of MobileNetV2 (Sandler et al. "
                         f"Table 2); choose from {STRIDED_ROWS} (1 = stem conv)")
    setting = [[t, c, n, 1 if row in rows else s]
               for row, (t, c, n, s) in enumerate(SANDLER_BOTTLENECKS, start=2)]
    model = torchvision.models.MobileNetV2(num_classes=num_classes, width_mult=WIDTH_MULT,
                                           inverted_residual_setting=setting, dropout=dropout)
    stem = model.features[0][0]
    stem_stride = 1 if 1 in rows else 2
    if in_channels != stem.in_channels or stem_stride != stem.stride[0]:
        model.features[0][0] = new_conv(stem, in_channels, kernel_size=3, stride=stem_stride, padding=1)
    return model


def _pooled(model: MobileNetV2, x: Tensor) -> Tensor:
    """Global-average-pooled last feature map, as in torchvision's forward (before dropout)."""
    return F.adaptive_avg_pool2d(model.features(x), 1).flatten(1)


register_family(Family(MobileNetV2, features=_pooled, head=lambda m: m.classifier))
