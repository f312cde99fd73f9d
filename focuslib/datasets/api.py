"""The public entry points: :func:`create_dataset` (map-style data set) and :func:`load_tensors`
(the in-memory fast path)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Literal

from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from .catalog import DATASETS, DatasetEntry
from .errors import DatasetNotFoundError
from .roots import resolve_root
from .sources import ImageFiles, ImageTensors
from .spec import DatasetSpec
from .transforms import build_transform

SPLITS = {"train": "train", "test": "test", "val": "test"}

Transform = Literal["default", "train", "test"] | None | Callable[[Image.Image], Any]


class FocusDataset(Dataset):
    """A map-style data set: item ``i`` is ``(transform(image_i), target_i)``, the image a PIL
    image (``transform=None`` returns it unchanged).

    Attributes: ``spec``, ``split`` ("train"/"test"), ``classes``, ``targets`` (list of int),
    ``variant`` (which copy was read) and ``subset_note`` (``None`` only for the complete
    official split with original pixels).
    """

    def __init__(
        self, source: ImageTensors | ImageFiles, spec: DatasetSpec, split: str, transform: Transform
    ) -> None:
        self.source, self.spec, self.split = source, spec, split
        self.classes: list[str] = list(source.classes)
        targets = source.targets
        self.targets: list[int] = (
            targets.tolist() if isinstance(targets, Tensor) else [int(t) for t in targets]
        )
        self.variant, self.subset_note = source.variant, source.subset_note
        if isinstance(transform, str) and transform in ("default", "train", "test"):
            mode = split if transform == "default" else transform
            transform = build_transform(spec, train=mode == "train")
        elif isinstance(transform, str) or not (transform is None or callable(transform)):
            raise ValueError(
                f"transform must be 'default', 'train', 'test', None or a callable, got {transform!r}"
            )
        self.transform = transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        image = self.source.image(index)
        return (image if self.transform is None else self.transform(image)), self.targets[index]

    def __repr__(self) -> str:
        note = f", note={self.subset_note!r}" if self.subset_note else ""
        where = f"split={self.split!r}, n={len(self)}, variant={self.variant!r}"
        return f"FocusDataset({self.spec.name!r}, {where}{note})"


def _load(
    name: str, split: str, root: str | os.PathLike | None, options: dict[str, Any]
) -> tuple[DatasetEntry, str, ImageTensors | ImageFiles]:
    entry = DATASETS.get(name)
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test' ('val' is an alias of 'test'), got {split!r}")
    unknown = sorted(set(options) - set(entry.options()))
    if unknown:
        raise ValueError(
            f"data set {name!r} takes no option(s) {unknown}; its options are {entry.options() or 'none'}"
        )
    split = SPLITS[split]
    return entry, split, entry.load(split, resolve_root(root), **options)


def create_dataset(
    name: str,
    split: str,
    root: str | os.PathLike | None = None,
    *,
    transform: Transform = "default",
    **options: Any,
) -> FocusDataset:
    """The ``split`` ("train", "test" or its alias "val") of data set ``name``.

    ``root``: the data folder (else ``$FOCUSLIB_DATA``, else ``~/.cache/focuslib/data``); each
    loader looks for the official layout under it first, then for the shared-data adapter.
    ``transform``: ``"default"`` (the spec's transform for this split, see
    :func:`build_transform`), ``"train"``/``"test"`` (the spec's training/evaluation transform
    whatever the split, e.g. a train split without augmentation), ``None`` (PIL images) or any
    callable. ``options`` are the loader's keywords, e.g. ``size`` for
    digits, ``variant``/``download`` for CIFAR-10, ``allow_partial`` for the file-based sets.
    """
    entry, split, source = _load(name, split, root, options)
    return FocusDataset(source, entry.spec, split, transform)


def load_tensors(
    name: str, split: str, root: str | os.PathLike | None = None, **options: Any
) -> ImageTensors:
    """The whole split as uint8 (N, C, H, W) images and int64 targets, for in-memory data sets
    (``get_spec(name).in_memory``); pair it with :class:`BatchAugment` for on-device augmentation."""
    if not DATASETS.get(name).spec.in_memory:
        raise ValueError(
            f"data set {name!r} is not held in memory (its images differ in size); use create_dataset"
        )
    return _load(name, split, root, options)[2]


def check_available(name: str, root: str | os.PathLike | None = None, **options: Any) -> None:
    """Raise :class:`DatasetNotFoundError` (with the preparation instructions) unless both
    splits of ``name`` can be read under ``root``; notebooks call it first."""
    for split in ("train", "test"):
        _load(name, split, root, options)


def is_available(name: str, root: str | os.PathLike | None = None, **options: Any) -> bool:
    """Whether :func:`check_available` passes."""
    try:
        check_available(name, root, **options)
    except DatasetNotFoundError:
        return False
    return True
