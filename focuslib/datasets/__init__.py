"""Data sets of the FocusNet paper (Table 1) plus the offline ``digits``.

``create_dataset(name, split, root=None, *, transform="default", **options)`` gives a map-style
data set, ``load_tensors`` an in-memory uint8 split for :class:`BatchAugment`, ``get_spec`` the
spec row (sizes, normalisation, augmentation, schedule), ``list_datasets`` the names.
"""

# Importing the loader modules registers them.
from . import cifar, cub200, digits, folders, imagenet_dogs, mnist, stanford_dogs, tinyimagenet  # noqa: F401
from .api import FocusDataset, check_available, create_dataset, is_available, load_tensors
from .batch_augment import BatchAugment
from .catalog import DATASETS, get_spec, list_datasets
from .errors import DatasetNotFoundError, IncompleteDatasetError
from .sources import ImageFiles, ImageTensors
from .spec import DatasetSpec
from .transforms import build_transform

__all__ = [
    "BatchAugment",
    "DATASETS",
    "DatasetNotFoundError",
    "DatasetSpec",
    "FocusDataset",
    "ImageFiles",
    "ImageTensors",
    "IncompleteDatasetError",
    "build_transform",
    "check_available",
    "is_available",
    "create_dataset",
    "get_spec",
    "list_datasets",
    "load_tensors",
]
