"""scikit-learn's bundled 8x8 digits: the offline data set that works on any machine.

The 1,797 images (values 0..16) are scaled to 0..255, resized bilinearly to an inner box and
zero-padded to ``size`` x ``size``, mimicking MNIST's 20x20 digit box centred in 28x28: the
padding is ``round(size / 7)`` per side (4 at 28 px, 2 at 16 px). scikit-learn ships no split,
so we fix one: the test split is every fifth image of each class in scikit-learn's order
(within-class positions 4, 9, 14, ...), the rest is train. With class counts
178,182,177,183,181,182,181,179,174,180 that gives 355 test and 1,442 train images.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits as _sklearn_digits

from .catalog import register_dataset
from .sources import ImageTensors

#: Every TEST_EVERY-th image of a class (counting from 1) is a test image.
TEST_EVERY = 5


def digits_split_mask() -> np.ndarray:
    """Boolean mask over scikit-learn's 1,797 digits: True for the test split."""
    target = _sklearn_digits().target
    rank = np.empty_like(target)
    for c in np.unique(target):
        members = np.flatnonzero(target == c)
        rank[members] = np.arange(len(members))
    return rank % TEST_EVERY == TEST_EVERY - 1


@register_dataset("digits")
def load_digits(split: str, root: Path, *, size: int = 28) -> ImageTensors:
    """The digits split as 1-channel uint8 ``size`` x ``size`` images (``root`` is unused)."""
    if not isinstance(size, int) or size < 8:
        raise ValueError(f"digits: size must be an integer >= 8 (pixels), got {size!r}")
    bunch = _sklearn_digits()
    keep = digits_split_mask() == (split == "test")
    pad = round(size / 7)
    pixels = torch.from_numpy(bunch.images[keep]).float().unsqueeze(1) * (255 / 16)
    inner = F.interpolate(
        pixels, size=(size - 2 * pad,) * 2, mode="bilinear", align_corners=False, antialias=True
    )
    images = F.pad(inner.round().clamp(0, 255).to(torch.uint8), (pad, pad, pad, pad))
    return ImageTensors(
        images, torch.from_numpy(bunch.target[keep]), [str(d) for d in range(10)], variant="sklearn"
    )
