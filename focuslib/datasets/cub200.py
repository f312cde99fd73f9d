"""CUB-200-2011 (Wah et al., 2011) from the official metadata files of ``CUB_200_2011/``:
``images.txt`` (id path), ``train_test_split.txt`` (id 1=train/0=test),
``image_class_labels.txt`` (id class, 1-based) and ``classes.txt`` (class name)."""

from __future__ import annotations

from pathlib import Path

from .catalog import check_counts, register_dataset
from .errors import DatasetNotFoundError
from .roots import Layout, describe_layouts
from .sources import ImageFiles

LAYOUT = Layout(
    ("CUB_200_2011", ""),
    ("images.txt", "train_test_split.txt", "image_class_labels.txt", "classes.txt", "images"),
)


def _table(path: Path) -> dict[int, str]:
    """``<int id> <value>`` lines as a dict (the value may contain no spaces in CUB's files)."""
    rows = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or not fields[0].isdigit():
            raise DatasetNotFoundError("cub200", path, f"lines '<id> <value>'; line {number} is {line!r}")
        rows[int(fields[0])] = fields[1]
    return rows


@register_dataset("cub200")
def load_cub200(split: str, root: Path, *, allow_partial: bool = False) -> ImageFiles:
    """CUB-200 with the official train/test split (5,994 / 5,794 images, 200 classes)."""
    folder = LAYOUT.find(root)
    if folder is None:
        raise DatasetNotFoundError("cub200", root, describe_layouts(root, LAYOUT))
    paths = _table(folder / "images.txt")
    is_train = _table(folder / "train_test_split.txt")
    labels = _table(folder / "image_class_labels.txt")
    names = _table(folder / "classes.txt")
    classes = [names[k] for k in sorted(names)]
    if sorted(names) != list(range(1, len(names) + 1)):
        raise DatasetNotFoundError("cub200", folder / "classes.txt", "class ids 1..N")
    if not set(paths) <= set(is_train) or not set(paths) <= set(labels):
        raise DatasetNotFoundError("cub200", folder, "a split and a label for every image id of images.txt")
    wanted = "1" if split == "train" else "0"
    ids = [i for i in sorted(paths) if is_train[i] == wanted]
    sources = [folder / "images" / paths[i] for i in ids]
    missing = [s for s in sources if not s.is_file()]
    if missing:
        raise DatasetNotFoundError(
            "cub200",
            folder / "images",
            f"every image of images.txt; {len(missing)} missing, e.g. {missing[0]}",
        )
    note = check_counts("cub200", split, len(ids), len(classes), folder, allow_partial=allow_partial)
    return ImageFiles(sources, [int(labels[i]) - 1 for i in ids], classes, subset_note=note)
