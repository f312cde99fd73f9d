"""CIFAR-10 and CIFAR-100: torchvision's official python batches, or (CIFAR-10 only) the two
shared-data adapters.

CIFAR-10 ``variant``:

* ``"official"``: ``ROOT/cifar-10-batches-py`` (``download=True`` fetches it), exact pixels;
* ``"jpeg_full"``: ``ROOT/cifar10/cifar10_jpeg_full.npz``, all 50,000/10,000 images but
  JPEG-recompressed (quality ~75, lossy), decoded once and cached;
* ``"lossless_subset"``: ``ROOT/cifar10/cifar10_lossless_subset.npz``, exact pixels of train
  images 0-3,999 and test images 0-999 only.

The default (``variant=None``) takes the first present in that order. ``jpeg_full`` comes before
``lossless_subset`` because the split sizes change results far more than JPEG noise does: a
network trained on 4,000 images is nowhere near the paper's numbers. The dataset's ``variant``
and ``subset_note`` say which copy was read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torchvision.datasets import CIFAR10, CIFAR100

from .catalog import check_counts, get_spec, register_dataset
from .decoding import (
    blob_slices,
    cached_arrays,
    decode_images,
    file_stamp,
    fingerprint,
    shared_npz,
)
from .errors import DatasetNotFoundError
from .roots import Layout, describe_layouts
from .sources import ImageTensors

VARIANTS = ("official", "jpeg_full", "lossless_subset")
SHARED = {
    "jpeg_full": Layout(("cifar10", ""), ("cifar10_jpeg_full.npz",)),
    "lossless_subset": Layout(("cifar10", ""), ("cifar10_lossless_subset.npz",)),
}
NOTES = {
    "jpeg_full": "complete split, but JPEG-recompressed (quality ~75, lossy): not the original pixels; "
    "test images 1,000-9,999 are grouped by class (shared-data MANIFEST)",
    "lossless_subset": "documented subset: original train images 0-3,999 / test images 0-999 only, "
    "exact pixels (shared-data MANIFEST)",
}
SUBSET_SIZES = {"train": 4000, "test": 1000}


def _official(name: str, cls: type[CIFAR10], split: str, root: Path, download: bool) -> ImageTensors:
    try:
        data = cls(str(root), train=split == "train", download=download)
    except RuntimeError as err:  # torchvision: "Dataset not found or corrupted"
        raise DatasetNotFoundError(
            name, root / cls.base_folder, f"the intact batches of {cls.filename} ({err})"
        ) from None
    images = torch.from_numpy(data.data).permute(0, 3, 1, 2).contiguous()
    note = check_counts(
        name, split, len(images), len(data.classes), root / cls.base_folder, allow_partial=False
    )
    return ImageTensors(images, torch.tensor(data.targets), list(data.classes), subset_note=note)


def _shared(variant: str, split: str, path: Path) -> ImageTensors:
    with shared_npz("cifar10", path) as npz:
        classes = [str(c) for c in npz["classes"]]
        if variant == "lossless_subset":
            images = npz[f"x_{split}"].transpose(0, 3, 1, 2).copy()
            labels = npz[f"y_{split}"]
        else:

            def decode() -> dict[str, np.ndarray]:
                encoded = blob_slices(npz[f"{split}_jpeg"], npz[f"{split}_offsets"])
                return {"images": decode_images(encoded), "labels": npz[f"y_{split}"]}

            arrays = cached_arrays(f"cifar10-jpeg_full-{split}", fingerprint(file_stamp(path), split), decode)
            images, labels = arrays["images"], arrays["labels"]
    spec = get_spec("cifar10")
    documented = {
        "lossless_subset": SUBSET_SIZES[split],
        "jpeg_full": spec.train_size if split == "train" else spec.test_size,
    }[variant]
    note = check_counts(
        "cifar10",
        split,
        len(labels),
        len(classes),
        path,
        allow_partial=False,
        documented=(documented, NOTES[variant]),
    )
    return ImageTensors(
        torch.from_numpy(images),
        torch.from_numpy(labels.astype(np.int64)),
        classes,
        variant=variant,
        subset_note=note,
    )


@register_dataset("cifar10")
def load_cifar10(
    split: str, root: Path, *, variant: str | None = None, download: bool = False
) -> ImageTensors:
    """CIFAR-10 as uint8 (N, 3, 32, 32); see the module docstring for ``variant``."""
    if variant not in (None, *VARIANTS):
        raise ValueError(
            f"cifar10: variant must be one of {VARIANTS} or None (first present), got {variant!r}"
        )
    if download and variant not in (None, "official"):
        raise ValueError(
            f"cifar10: download=True fetches the official data; it cannot make variant={variant!r}"
        )
    official = download or (root / CIFAR10.base_folder).is_dir()
    if variant == "official" or (variant is None and official):
        return _official("cifar10", CIFAR10, split, root, download)
    for name in (variant,) if variant else tuple(SHARED):
        path = SHARED[name].find(root)
        if path is not None:
            return _shared(name, split, path / SHARED[name].required[0])
    tried = [Layout(("",), (CIFAR10.base_folder,))] if variant is None else []
    tried += [SHARED[variant]] if variant else list(SHARED.values())
    raise DatasetNotFoundError("cifar10", root, describe_layouts(root, *tried))


@register_dataset("cifar100")
def load_cifar100(split: str, root: Path, *, download: bool = False) -> ImageTensors:
    """CIFAR-100 (fine labels) as uint8 (N, 3, 32, 32) from ``ROOT/cifar-100-python``."""
    if not download and not (root / CIFAR100.base_folder).is_dir():
        raise DatasetNotFoundError(
            "cifar100", root, describe_layouts(root, Layout(("",), (CIFAR100.base_folder,)))
        )
    return _official("cifar100", CIFAR100, split, root, download)
