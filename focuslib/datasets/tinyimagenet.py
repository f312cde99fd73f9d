"""Tiny ImageNet (CS231n): 200 classes of 64x64 images, held in memory after one decoding pass.

Classes are the sorted wnids (the order torchvision's ImageFolder gives ``train/``); the test
split is the labelled ``val`` set. Official layout: ``ROOT/tiny-imagenet-200/{wnids.txt,
train/<wnid>/images/*.JPEG, val/val_annotations.txt, val/images/}``. Shared-data adapter:
``tinyimagenet_val_full_train100pc.npz`` with the complete val set and a documented train
subset (the first 100 of 500 images per class).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import torch

from .catalog import check_counts, register_dataset
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

OFFICIAL = Layout(("tiny-imagenet-200", ""), ("wnids.txt", "train", "val/val_annotations.txt", "val/images"))
SHARED = Layout(("tiny-imagenet-200", ""), ("tinyimagenet_val_full_train100pc.npz",))
SHARED_TRAIN_NOTE = (
    "documented subset: 100 of the 500 training images per class (<wnid>_0 ... <wnid>_99), "
    "20,000 in all (shared-data MANIFEST); the val split is complete"
)


def _official_files(folder: Path, split: str) -> tuple[list[Path], list[int], list[str]]:
    classes = sorted(folder.joinpath("wnids.txt").read_text().split())
    index = {w: i for i, w in enumerate(classes)}
    if split == "train":
        pairs = [
            (f, index[w]) for w in classes for f in sorted((folder / "train" / w / "images").glob("*.JPEG"))
        ]
    else:
        pairs = []
        for line in folder.joinpath("val", "val_annotations.txt").read_text().splitlines():
            fields = line.split("\t")
            if len(fields) < 2 or fields[1] not in index:
                raise DatasetNotFoundError(
                    "tinyimagenet",
                    folder / "val" / "val_annotations.txt",
                    f"lines '<file>\\t<wnid of wnids.txt>\\t...', found {line!r}",
                )
            pairs.append((folder / "val" / "images" / fields[0], index[fields[1]]))
    missing = [str(f) for f, _ in pairs if not f.is_file()]
    if missing:
        raise DatasetNotFoundError(
            "tinyimagenet", folder, f"every listed image; {len(missing)} missing, e.g. {missing[0]}"
        )
    return [f for f, _ in pairs], [t for _, t in pairs], classes


def _load_official(folder: Path, split: str) -> tuple[dict[str, np.ndarray], list[str]]:
    files, targets, classes = _official_files(folder, split)
    if not files:
        raise DatasetNotFoundError(
            "tinyimagenet", folder, f"{split} images in the official layout; found none"
        )
    listing = hashlib.sha256("\n".join(f"{f}:{f.stat().st_size}" for f in files).encode()).hexdigest()
    arrays = cached_arrays(
        f"tinyimagenet-{split}",
        fingerprint(folder.resolve(), split, listing),
        lambda: {"images": decode_images(files), "labels": np.asarray(targets, np.int64)},
    )
    return arrays, classes


def _load_shared(path: Path, split: str) -> tuple[dict[str, np.ndarray], list[str]]:
    key = "train" if split == "train" else "val"
    with shared_npz("tinyimagenet", path) as npz:
        wnids = [str(w) for w in npz["wnids"]]
        classes = sorted(wnids)
        to_sorted = np.array([classes.index(w) for w in wnids])  # the npz labels index wnids.txt order

        def decode() -> dict[str, np.ndarray]:
            encoded = blob_slices(npz[f"{key}_jpeg"], npz[f"{key}_offsets"])
            return {"images": decode_images(encoded), "labels": to_sorted[npz[f"y_{key}"]]}

        return (
            cached_arrays(f"tinyimagenet-shared-{key}", fingerprint(file_stamp(path), key), decode),
            classes,
        )


@register_dataset("tinyimagenet")
def load_tinyimagenet(split: str, root: Path, *, allow_partial: bool = False) -> ImageTensors:
    """Tiny ImageNet as uint8 (N, 3, 64, 64); the official layout first, then the shared npz."""
    folder, shared = OFFICIAL.find(root), SHARED.find(root)
    documented = None
    if folder is not None:
        where, variant = folder, "official"
        arrays, classes = _load_official(folder, split)
    elif shared is not None:
        where, variant = shared / SHARED.required[0], "shared_npz"
        arrays, classes = _load_shared(where, split)
        if split == "train":
            documented = (20_000, SHARED_TRAIN_NOTE)
    else:
        raise DatasetNotFoundError("tinyimagenet", root, describe_layouts(root, OFFICIAL, SHARED))
    labels = arrays["labels"].astype(np.int64)
    note = check_counts(
        "tinyimagenet",
        split,
        len(labels),
        len(classes),
        where,
        allow_partial=allow_partial,
        documented=documented,
    )
    return ImageTensors(
        torch.from_numpy(arrays["images"]),
        torch.from_numpy(labels),
        classes,
        variant=variant,
        subset_note=note,
    )
