"""MNIST from its IDX files (``ROOT/MNIST/raw``, torchvision's layout), plain or gzipped.

torchvision's MNIST class only reads the uncompressed files; the shared data ships the .gz
files, so the IDX format (LeCun et al., http://yann.lecun.com/exdb/mnist/) is parsed here.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch
from torchvision.datasets import MNIST

from .catalog import check_counts, register_dataset
from .errors import DatasetNotFoundError
from .sources import ImageTensors

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
SUBDIRS = ("MNIST/raw", "raw", "")


def read_idx(path: Path) -> np.ndarray:
    """An IDX file of unsigned bytes: magic ``00 00 08 <ndim>``, ndim big-endian uint32 sizes, data."""
    raw = (gzip.decompress if path.suffix == ".gz" else bytes)(path.read_bytes())
    if len(raw) < 4 or raw[:3] != b"\x00\x00\x08":
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (magic 00 00 08 xx)")
    ndim = raw[3]
    shape = tuple(np.frombuffer(raw, ">u4", count=ndim, offset=4).tolist())
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape} but holds {data.size} bytes of data")
    return data.reshape(shape)


def _find(folder: Path, stem: str) -> Path | None:
    return next((folder / n for n in (stem, stem + ".gz") if (folder / n).is_file()), None)


@register_dataset("mnist")
def load_mnist(
    split: str, root: Path, *, download: bool = False, allow_partial: bool = False
) -> ImageTensors:
    """MNIST as uint8 (N, 1, 28, 28); ``download=True`` lets torchvision fetch it into ``root``."""
    if download:
        MNIST(str(root), train=split == "train", download=True)
    stems = FILES[split]
    for sub in SUBDIRS:
        folder = root / sub if sub else root
        files = [_find(folder, s) for s in stems]
        if all(files):
            break
    else:
        places = ", ".join(str(root / s if s else root) for s in SUBDIRS)
        raise DatasetNotFoundError("mnist", root, f"{stems[0]}[.gz] and {stems[1]}[.gz] in one of {places}")
    try:
        images, labels = read_idx(files[0]), read_idx(files[1])
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != images.shape[:1]:
            raise ValueError(f"images {images.shape} and labels {labels.shape} do not form a 28x28 split")
    except (OSError, EOFError, ValueError) as err:
        raise DatasetNotFoundError("mnist", folder, f"valid IDX files ({err})") from None
    note = check_counts(
        "mnist", split, len(labels), len(np.unique(labels)), folder, allow_partial=allow_partial
    )
    return ImageTensors(
        torch.from_numpy(images[:, None].copy()),
        torch.from_numpy(labels.astype(np.int64)),
        list(MNIST.classes),
        subset_note=note,
    )
