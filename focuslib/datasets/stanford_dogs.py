"""Stanford Dogs (Khosla et al., 2011) from the official ``train_list.mat`` / ``test_list.mat``
(MATLAB cell ``file_list`` of ``<wnid>-<breed>/<file>.jpg`` paths, ``labels`` 1..120) and the
``Images/`` folder of images.tar."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.io import loadmat

from .catalog import check_counts, register_dataset
from .errors import DatasetNotFoundError
from .roots import Layout, describe_layouts
from .sources import ImageFiles

LAYOUT = Layout(("stanford_dogs", "StanfordDogs", ""), ("train_list.mat", "test_list.mat", "Images"))


def read_list(path: Path) -> tuple[list[str], list[int]]:
    """(relative image paths, 0-based labels) of a ``*_list.mat`` file."""
    try:
        mat = loadmat(str(path))
        files = [str(np.asarray(cell).ravel()[0]) for cell in mat["file_list"].ravel()]
        labels = [int(v) - 1 for v in np.asarray(mat["labels"]).ravel()]
    except (KeyError, IndexError, ValueError, OSError) as err:
        raise DatasetNotFoundError(
            "stanford_dogs",
            path,
            f"a MATLAB file with a cell array 'file_list' and a vector 'labels' ({err!r})",
        ) from None
    if len(files) != len(labels):
        raise DatasetNotFoundError(
            "stanford_dogs", path, f"as many labels as files ({len(labels)} vs {len(files)})"
        )
    return files, labels


@register_dataset("stanford_dogs")
def load_stanford_dogs(split: str, root: Path, *, allow_partial: bool = False) -> ImageFiles:
    """Stanford Dogs with the official split (12,000 / 8,580 images, 120 classes).

    Class ``k`` (label ``k+1`` in the .mat files) is named by its folder, e.g.
    ``n02085620-Chihuahua``; the names come from the train list so both splits share them.
    """
    folder = LAYOUT.find(root)
    if folder is None:
        raise DatasetNotFoundError("stanford_dogs", root, describe_layouts(root, LAYOUT))
    names: dict[int, str] = {}
    for file, label in zip(*read_list(folder / "train_list.mat")):
        if names.setdefault(label, file.split("/")[0]) != file.split("/")[0]:
            raise DatasetNotFoundError(
                "stanford_dogs", folder / "train_list.mat", f"one folder per label; label {label + 1} has two"
            )
    if sorted(names) != list(range(len(names))):
        raise DatasetNotFoundError(
            "stanford_dogs", folder / "train_list.mat", "labels 1..N, each with training images"
        )
    files, labels = read_list(folder / f"{split}_list.mat")
    sources = [folder / "Images" / f for f in files]
    missing = [s for s in sources if not s.is_file()]
    if missing or any(label not in names for label in labels):
        problem = (
            f"{len(missing)} missing, e.g. {missing[0]}"
            if missing
            else "a test label unknown to the train list"
        )
        raise DatasetNotFoundError(
            "stanford_dogs", folder / "Images", f"every image of {split}_list.mat; {problem}"
        )
    note = check_counts("stanford_dogs", split, len(files), len(names), folder, allow_partial=allow_partial)
    return ImageFiles(sources, labels, [names[k] for k in range(len(names))], subset_note=note)
