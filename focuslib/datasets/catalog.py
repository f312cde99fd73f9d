"""The data set registry (name -> spec + loader) and the check of split sizes against Table 1."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..registry import Registry
from .errors import DatasetNotFoundError, IncompleteDatasetError
from .sources import ImageFiles, ImageTensors
from .spec import SPEC_TABLE, DatasetSpec

Loader = Callable[..., ImageTensors | ImageFiles]


@dataclass(frozen=True)
class DatasetEntry:
    """A spec row and its loader ``load(split, root, **options)`` (split is "train" or "test")."""

    spec: DatasetSpec
    load: Loader

    def options(self) -> list[str]:
        """The keyword options the loader accepts."""
        params = inspect.signature(self.load).parameters.values()
        return [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]


DATASETS: Registry[DatasetEntry] = Registry("data set")


def register_dataset(name: str) -> Callable[[Loader], Loader]:
    """Decorator registering a loader under ``name``, paired with the spec row of that name."""
    spec = next((s for s in SPEC_TABLE if s.name == name), None)
    if spec is None:
        raise ValueError(f"no DatasetSpec row named {name!r} in focuslib/datasets/spec.py")

    def add(load: Loader) -> Loader:
        DATASETS.register(name)(DatasetEntry(spec, load))
        return load

    return add


def get_spec(name: str) -> DatasetSpec:
    """The :class:`DatasetSpec` of ``name`` (unknown names raise, listing the known ones)."""
    return DATASETS.get(name).spec


def list_datasets() -> list[str]:
    return DATASETS.names()


def check_counts(
    name: str,
    split: str,
    num_images: int,
    num_classes: int,
    where: Path,
    *,
    allow_partial: bool,
    documented: tuple[int, str] | None = None,
) -> str | None:
    """Compare a split with Table 1 and return its ``subset_note`` (``None`` when complete).

    ``documented=(count, note)`` marks a known subset: it must hold exactly ``count`` images and
    gets ``note``. Any other mismatch raises :class:`IncompleteDatasetError` unless
    ``allow_partial``, which turns it into a "partial copy" note. An empty split always raises.
    """
    spec = get_spec(name)
    expected, note = documented or (spec.train_size if split == "train" else spec.test_size, None)
    found = f"{num_images:,} {split} images in {num_classes} classes"
    if num_images == 0:
        raise DatasetNotFoundError(name, where, f"{expected:,} {split} images; found none")
    if (num_images, num_classes) == (expected, spec.num_classes):
        return note
    if allow_partial:
        return f"partial copy: {found}; the complete split has {expected:,} in {spec.num_classes} classes"
    raise IncompleteDatasetError(
        name,
        where,
        f"{expected:,} {split} images in {spec.num_classes} classes "
        f"({'the documented subset' if documented else 'paper Table 1'}); found {found}. "
        "Pass allow_partial=True to use an incomplete copy on purpose.",
    )
