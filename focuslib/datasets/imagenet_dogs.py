"""ImageNet Dogs: the 118 dog classes of ILSVRC-2012 at 64x64 (paper Table 1: 147,873 / 5,900),
read from the .npz that ``python -m focuslib.datasets.prepare_imagenet_dogs`` writes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .catalog import check_counts, register_dataset
from .decoding import shared_npz
from .errors import DatasetNotFoundError
from .roots import Layout, describe_layouts
from .sources import ImageTensors

FILE_NAME = "imagenet_dogs_64.npz"
LAYOUT = Layout(("imagenet_dogs", ""), (FILE_NAME,))
#: npz keys: ``<key>_images`` uint8 (N, 3, 64, 64), ``<key>_labels`` (N,), ``wnids`` (118,).
SPLIT_KEYS = {"train": "train", "test": "val"}


@register_dataset("imagenet_dogs")
def load_imagenet_dogs(split: str, root: Path, *, allow_partial: bool = False) -> ImageTensors:
    """The prepared ImageNet Dogs split as uint8 (N, 3, 64, 64); classes are the sorted wnids."""
    folder = LAYOUT.find(root)
    if folder is None:
        raise DatasetNotFoundError("imagenet_dogs", root, describe_layouts(root, LAYOUT))
    path, key = folder / FILE_NAME, SPLIT_KEYS[split]
    with shared_npz("imagenet_dogs", path, "prepare_imagenet_dogs") as npz:
        images, labels = npz[f"{key}_images"], npz[f"{key}_labels"].astype(np.int64)
        classes = [str(w) for w in npz["wnids"]]
    note = check_counts("imagenet_dogs", split, len(labels), len(classes), path, allow_partial=allow_partial)
    return ImageTensors(torch.from_numpy(images), torch.from_numpy(labels), classes, subset_note=note)
