"""Class-folder data sets read with torchvision's ImageFolder helpers: Imagewoof (v2, 320 px)
and ImageNet (ILSVRC-2012), plus the shared Imagewoof subset (JPEG bytes in one npz)."""

from __future__ import annotations

from pathlib import Path

from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes, make_dataset

from .catalog import check_counts, register_dataset
from .decoding import blob_slices, shared_npz
from .errors import DatasetNotFoundError
from .roots import Layout, describe_layouts
from .sources import ImageFiles

SPLIT_DIRS = {"train": "train", "test": "val"}
IMAGEWOOF = Layout(("imagewoof2-320", "imagewoof2", ""), ("train", "val"))
IMAGEWOOF_SHARED = Layout(("imagewoof", ""), ("imagewoof2_320_subset_train50_val20pc.npz",))
IMAGEWOOF_SUBSET = {"train": 500, "test": 200}
IMAGENET = Layout(("imagenet", "ILSVRC2012", ""), ("train", "val"))


def image_folder(
    name: str, folder: Path, split: str, allow_partial: bool, variant: str = "official"
) -> ImageFiles:
    """``folder/<train|val>/<class>/<image>`` as :class:`ImageFiles` (classes sorted)."""
    split_dir = folder / SPLIT_DIRS[split]
    try:
        classes, class_to_idx = find_classes(str(split_dir))
        samples = make_dataset(str(split_dir), class_to_idx, extensions=IMG_EXTENSIONS)
    except FileNotFoundError as err:
        raise DatasetNotFoundError(name, split_dir, f"one sub-folder of images per class ({err})") from None
    note = check_counts(name, split, len(samples), len(classes), split_dir, allow_partial=allow_partial)
    return ImageFiles(
        [Path(p) for p, _ in samples], [t for _, t in samples], classes, variant=variant, subset_note=note
    )


def _imagewoof_shared(path: Path, split: str) -> ImageFiles:
    with shared_npz("imagewoof", path) as npz:
        keep = npz["is_valid"] == (split == "test")
        encoded = [b for b, k in zip(blob_slices(npz["jpeg"], npz["offsets"]), keep) if k]
        targets, classes = npz["y"][keep].astype(int).tolist(), [str(w) for w in npz["wnids"]]
    note = check_counts(
        "imagewoof",
        split,
        len(targets),
        len(classes),
        path,
        allow_partial=False,
        documented=(
            IMAGEWOOF_SUBSET[split],
            "documented subset: the first 50 train / 20 val images "
            "per class of imagewoof2-320 in sorted file order (shared-data MANIFEST)",
        ),
    )
    return ImageFiles(encoded, targets, classes, variant="shared_npz", subset_note=note)


@register_dataset("imagewoof")
def load_imagewoof(split: str, root: Path, *, allow_partial: bool = False) -> ImageFiles:
    """Imagewoof v2 (paper split 9,025 / 3,929): ``imagewoof2-320/{train,val}``, else the shared subset."""
    folder = IMAGEWOOF.find(root)
    if folder is not None:
        return image_folder("imagewoof", folder, split, allow_partial)
    shared = IMAGEWOOF_SHARED.find(root)
    if shared is not None:
        return _imagewoof_shared(shared / IMAGEWOOF_SHARED.required[0], split)
    raise DatasetNotFoundError("imagewoof", root, describe_layouts(root, IMAGEWOOF, IMAGEWOOF_SHARED))


@register_dataset("imagenet")
def load_imagenet(split: str, root: Path, *, allow_partial: bool = False) -> ImageFiles:
    """ILSVRC-2012 from ``imagenet/{train,val}/<wnid>/`` (val sorted into class folders)."""
    folder = IMAGENET.find(root)
    if folder is None:
        raise DatasetNotFoundError("imagenet", root, describe_layouts(root, IMAGENET))
    return image_folder("imagenet", folder, split, allow_partial)
