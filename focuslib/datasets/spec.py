"""The one table describing every data set: sizes (paper Table 1), input size, normalisation,
augmentation, schedule preset (paper Sec. 4.2) and how to obtain the data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Augmentation = Literal["none", "crop_flip", "rrc_flip"]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class DatasetSpec:
    """What a data set is and how the paper trains on it.

    ``train_size``/``test_size`` are the paper's Table 1 counts (the test split is the paper's
    "validation" set). ``augmentation``: ``"none"`` (MNIST, paper Sec. 4.2; digits),
    ``"crop_flip"`` = random crop of ``image_size`` after zero padding by ``crop_padding`` +
    horizontal flip (32 and 64 px sets), ``"rrc_flip"`` = RandomResizedCrop(224) + flip, test
    Resize(256) + CenterCrop(224) (the torchvision ImageNet recipe, also in FocusNet's official
    code). ``schedule`` keys :data:`focuslib.config.PAPER_SCHEDULES`. ``small_input``: the
    paper's 3x3-stem, no-max-pool ResNet (Sec. 4.2). ``in_memory``: small enough to be held as one
    uint8 tensor (:func:`focuslib.datasets.load_tensors`). ``prepare``: how to obtain the files.
    """

    name: str
    title: str
    num_classes: int
    in_channels: int
    image_size: int
    train_size: int
    test_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    augmentation: Augmentation
    schedule: Literal["200ep", "90ep"]
    small_input: bool
    in_memory: bool
    prepare: str
    crop_padding: int = 0

    def __post_init__(self) -> None:
        if len(self.mean) != self.in_channels or len(self.std) != self.in_channels:
            raise ValueError(f"{self.name}: mean/std need {self.in_channels} entries")
        if (self.augmentation == "crop_flip") != (self.crop_padding > 0):
            raise ValueError(f"{self.name}: crop_padding is set exactly for crop_flip sets")


# Random-crop padding: 4 px at 32 px (the CIFAR standard, 1/8 of the side); the 64 px sets use
# 8 px, the same 1/8 of the side, so a crop translates the image by the same fraction
# (up to +-12.5 %) as on CIFAR.
_DIGITS_SPLIT = "test = every fifth image of each class in scikit-learn's order (see digits.py)."

#: The table, one row per data set; :mod:`focuslib.datasets.catalog` pairs each row with its loader.
SPEC_TABLE: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        name="digits",
        title="scikit-learn digits (8x8, padded to 28x28)",
        num_classes=10,
        in_channels=1,
        image_size=28,
        train_size=1442,
        test_size=355,
        # statistics of the 1,442 train images at 28 px; tests/test_datasets.py recomputes them
        mean=(0.1557,),
        std=(0.2774,),
        augmentation="none",
        schedule="200ep",
        small_input=True,
        in_memory=True,
        prepare=f"Nothing to download: scikit-learn ships it (sklearn.datasets.load_digits); {_DIGITS_SPLIT}",
    ),
    DatasetSpec(
        name="mnist",
        title="MNIST",
        num_classes=10,
        in_channels=1,
        image_size=28,
        train_size=60_000,
        test_size=10_000,
        mean=(0.1307,),
        std=(0.3081,),
        augmentation="none",
        schedule="200ep",
        small_input=True,
        in_memory=True,
        prepare=(
            "Pass download=True (torchvision fetches it into ROOT/MNIST/raw), or put the four IDX files "
            "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
            "t10k-labels-idx1-ubyte (each may be .gz) from http://yann.lecun.com/exdb/mnist/ into "
            "ROOT/MNIST/raw/; focusbook's shared data folder has them (root=<shared>/data)."
        ),
    ),
    DatasetSpec(
        name="cifar10",
        title="CIFAR-10",
        num_classes=10,
        in_channels=3,
        image_size=32,
        train_size=50_000,
        test_size=10_000,
        mean=(0.4914, 0.4822, 0.4465),
        std=(0.2470, 0.2435, 0.2616),
        augmentation="crop_flip",
        crop_padding=4,
        schedule="200ep",
        small_input=True,
        in_memory=True,
        prepare=(
            "Pass download=True (torchvision fetches cifar-10-python.tar.gz from "
            "https://www.cs.toronto.edu/~kriz/cifar.html into ROOT/cifar-10-batches-py), or point root "
            "at focusbook's shared data folder (ROOT/cifar10/cifar10_jpeg_full.npz, "
            "ROOT/cifar10/cifar10_lossless_subset.npz; choose with variant=...)."
        ),
    ),
    DatasetSpec(
        name="cifar100",
        title="CIFAR-100",
        num_classes=100,
        in_channels=3,
        image_size=32,
        train_size=50_000,
        test_size=10_000,
        mean=(0.5071, 0.4865, 0.4409),
        std=(0.2673, 0.2564, 0.2762),
        augmentation="crop_flip",
        crop_padding=4,
        schedule="200ep",
        small_input=True,
        in_memory=True,
        prepare=(
            "Pass download=True (torchvision fetches cifar-100-python.tar.gz from "
            "https://www.cs.toronto.edu/~kriz/cifar.html into ROOT/cifar-100-python); "
            "focusbook's shared data folder has no copy."
        ),
    ),
    DatasetSpec(
        name="imagewoof",
        title="Imagewoof",
        num_classes=10,
        in_channels=3,
        image_size=224,
        train_size=9_025,
        test_size=3_929,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        augmentation="rrc_flip",
        schedule="200ep",
        small_input=False,
        in_memory=False,
        prepare=(
            "Download https://s3.amazonaws.com/fast-ai-imageclas/imagewoof2-320.tgz (fastai/imagenette) "
            "and extract it into ROOT (giving ROOT/imagewoof2-320/train/<wnid>/ and val/<wnid>/), or "
            "use the documented subset in focusbook's shared data folder "
            "(ROOT/imagewoof/imagewoof2_320_subset_train50_val20pc.npz)."
        ),
    ),
    DatasetSpec(
        name="imagenet_dogs",
        title="ImageNet Dogs (64x64)",
        num_classes=118,
        in_channels=3,
        image_size=64,
        train_size=147_873,
        test_size=5_900,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        augmentation="crop_flip",
        crop_padding=8,
        schedule="90ep",
        small_input=True,
        in_memory=True,
        prepare=(
            "Made from your ILSVRC-2012 copy (train/ and val/ in class folders): run "
            "`python -m focuslib.datasets.prepare_imagenet_dogs --imagenet IMAGENET_DIR --out "
            "ROOT/imagenet_dogs`, which writes ROOT/imagenet_dogs/imagenet_dogs_64.npz."
        ),
    ),
    DatasetSpec(
        name="stanford_dogs",
        title="Stanford Dogs",
        num_classes=120,
        in_channels=3,
        image_size=224,
        train_size=12_000,
        test_size=8_580,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        augmentation="rrc_flip",
        schedule="200ep",
        small_input=False,
        in_memory=False,
        prepare=(
            "Download images.tar and lists.tar from http://vision.stanford.edu/aditya86/ImageNetDogs/ "
            "and extract both into ROOT/stanford_dogs (giving Images/<wnid>-<breed>/*.jpg, "
            "train_list.mat and test_list.mat)."
        ),
    ),
    DatasetSpec(
        name="cub200",
        title="CUB-200-2011",
        num_classes=200,
        in_channels=3,
        image_size=224,
        train_size=5_994,
        test_size=5_794,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        augmentation="rrc_flip",
        schedule="200ep",
        small_input=False,
        in_memory=False,
        prepare=(
            "Download CUB_200_2011.tgz from https://www.vision.caltech.edu/datasets/cub_200_2011/ and "
            "extract it into ROOT (giving ROOT/CUB_200_2011/images.txt, train_test_split.txt, "
            "image_class_labels.txt, classes.txt and images/)."
        ),
    ),
    DatasetSpec(
        name="tinyimagenet",
        title="Tiny ImageNet",
        num_classes=200,
        in_channels=3,
        image_size=64,
        train_size=100_000,
        test_size=10_000,
        # Channel statistics of the full 100k train set as commonly quoted; the shared 20k train
        # subset gives the same values to within 0.002 (checked in tests/test_datasets.py).
        mean=(0.4802, 0.4481, 0.3975),
        std=(0.2770, 0.2691, 0.2821),
        augmentation="crop_flip",
        crop_padding=8,
        schedule="90ep",
        small_input=True,
        in_memory=True,
        prepare=(
            "Download http://cs231n.stanford.edu/tiny-imagenet-200.zip and extract it into ROOT "
            "(giving ROOT/tiny-imagenet-200/wnids.txt, train/<wnid>/images/, val/val_annotations.txt, "
            "val/images/), or use the documented subset in focusbook's shared data folder "
            "(ROOT/tiny-imagenet-200/tinyimagenet_val_full_train100pc.npz)."
        ),
    ),
    DatasetSpec(
        name="imagenet",
        title="ImageNet (ILSVRC-2012)",
        num_classes=1000,
        in_channels=3,
        image_size=224,
        train_size=1_281_167,
        test_size=50_000,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        augmentation="rrc_flip",
        schedule="90ep",
        small_input=False,
        in_memory=False,
        prepare=(
            "Obtain ILSVRC-2012 from https://image-net.org (registration needed) and extract it as "
            "ROOT/imagenet/train/<wnid>/*.JPEG and ROOT/imagenet/val/<wnid>/*.JPEG (sort the flat "
            "validation images into class folders with the devkit's ground truth first)."
        ),
    ),
)
