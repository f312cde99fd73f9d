"""Tests of focuslib.datasets: specs against the paper, loaders on the real shared data and on
tiny hand-built folders in the official layouts, error messages, and BatchAugment against
torchvision's transforms."""

from __future__ import annotations

import gzip
import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from focuslib.config import PAPER_SCHEDULES
from focuslib.datasets import (
    BatchAugment,
    DatasetNotFoundError,
    IncompleteDatasetError,
    build_transform,
    create_dataset,
    get_spec,
    list_datasets,
    load_tensors,
)
from focuslib.datasets.prepare_imagenet_dogs import dog_wnids, prepare
from focuslib.datasets.prepare_imagenet_dogs import main as prepare_dogs_main
from focuslib.registry import UnknownNameError

SHARED = Path(os.environ.get("FOCUSLIB_TEST_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared data folder {SHARED} is absent (set FOCUSLIB_TEST_DATA to it)"
)

# Paper Table 1, typed from the paper: name -> (N, # training, # validation).
TABLE1 = {
    "mnist": (10, 60_000, 10_000),
    "cifar10": (10, 50_000, 10_000),
    "imagewoof": (10, 9_025, 3_929),
    "cifar100": (100, 50_000, 10_000),
    "imagenet_dogs": (118, 147_873, 5_900),
    "stanford_dogs": (120, 12_000, 8_580),
    "cub200": (200, 5_994, 5_794),
    "tinyimagenet": (200, 100_000, 10_000),
    "imagenet": (1000, 1_281_167, 50_000),
}
FILE_BASED = ["imagewoof", "stanford_dogs", "cub200", "imagenet"]


def write_jpeg(
    path: Path, size: tuple[int, int] = (40, 30), colour: tuple[int, int, int] = (200, 10, 10)
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, colour).save(path, "JPEG")
    return path


def unnormalise(x: torch.Tensor, spec_name: str) -> torch.Tensor:
    """Normalised float images back to integer pixels 0..255 (exact up to float rounding)."""
    spec = get_spec(spec_name)
    mean = torch.tensor(spec.mean).view(-1, 1, 1)
    std = torch.tensor(spec.std).view(-1, 1, 1)
    return ((x * std + mean) * 255).round().to(torch.int64)


# --------------------------------------------------------------------------------- specs
def test_names_are_the_contract() -> None:
    assert list_datasets() == sorted(
        [
            "mnist",
            "cifar10",
            "cifar100",
            "imagewoof",
            "imagenet_dogs",
            "stanford_dogs",
            "cub200",
            "tinyimagenet",
            "imagenet",
            "digits",
        ]
    )


@pytest.mark.parametrize("name", sorted(TABLE1))
def test_spec_matches_table1(name: str) -> None:
    spec = get_spec(name)
    assert (spec.num_classes, spec.train_size, spec.test_size) == TABLE1[name]


def test_spec_follows_section_4_2() -> None:
    # Sec. 4.2: 90 epochs for ImageNet Dogs, Tiny ImageNet, ImageNet; 200 for the rest.
    assert {n for n in TABLE1 if get_spec(n).schedule == "90ep"} == {
        "imagenet_dogs",
        "tinyimagenet",
        "imagenet",
    }
    assert all(get_spec(n).schedule in PAPER_SCHEDULES for n in list_datasets())
    # The modified (3x3-stem) ResNet serves CIFAR-10/100, Tiny ImageNet and ImageNet Dogs.
    for name in ("cifar10", "cifar100", "tinyimagenet", "imagenet_dogs"):
        assert get_spec(name).small_input
    for name in FILE_BASED:
        assert not get_spec(name).small_input and get_spec(name).augmentation == "rrc_flip"
    # No augmentation for MNIST, random crop + flip for the others.
    assert get_spec("mnist").augmentation == "none"
    assert [get_spec(n).crop_padding for n in ("cifar10", "cifar100", "tinyimagenet", "imagenet_dogs")] == [
        4,
        4,
        8,
        8,
    ]
    assert {n for n in list_datasets() if get_spec(n).in_memory} == {
        "digits",
        "mnist",
        "cifar10",
        "cifar100",
        "tinyimagenet",
        "imagenet_dogs",
    }


def test_unknown_name_split_option_transform() -> None:
    with pytest.raises(UnknownNameError, match="cifar10"):
        create_dataset("cifar-10", "train")
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        create_dataset("digits", "validation")
    with pytest.raises(ValueError, match=r"takes no option\(s\) \['sizes'\]; its options are \['size'\]"):
        create_dataset("digits", "train", sizes=16)
    with pytest.raises(ValueError, match="transform must be 'default', 'train', 'test'"):
        create_dataset("digits", "train", transform="none")
    with pytest.raises(ValueError, match="size must be an integer >= 8"):
        create_dataset("digits", "train", size=4)
    with pytest.raises(ValueError, match="not held in memory"):
        load_tensors("imagewoof", "train")


# -------------------------------------------------------------------------------- digits
def test_digits_offline_split_and_shapes(tmp_path: Path) -> None:
    root = tmp_path / "nothing-here"  # digits never reads the root
    train, test = create_dataset("digits", "train", root), create_dataset("digits", "val", root)
    # scikit-learn's class counts 178,182,177,183,181,182,181,179,174,180; every fifth image of
    # a class is a test image, i.e. floor(count / 5) per class:
    per_class_test = [35, 36, 35, 36, 36, 36, 36, 35, 34, 36]  # sum 355
    assert (len(train), len(test)) == (1797 - 355, 355)
    assert np.bincount(test.targets).tolist() == per_class_test
    assert test.split == "test" and train.classes == [str(d) for d in range(10)]
    x, y = train[0]
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32 and y == 0  # sklearn's first digit is a 0
    # Range after normalisation: (0 - 0.1557) / 0.2774 = -0.5613 and (1 - 0.1557) / 0.2774 = 3.0436.
    stack = torch.stack([train[i][0] for i in range(50)])
    assert stack.min().item() == pytest.approx(-0.5613, abs=1e-3)
    assert stack.max().item() <= 3.0437
    assert isinstance(create_dataset("digits", "train", transform=None)[0][0], Image.Image)


@needs_shared
def test_transform_modes_on_cifar() -> None:
    base = dict(root=SHARED, variant="lossless_subset")
    plain = create_dataset("cifar10", "train", transform="test", **base)
    raw = create_dataset("cifar10", "train", transform=None, **base)[0][0]
    # "test" on a train split: no augmentation, only (x / 255 - mean) / std, checked by hand
    pixel = np.asarray(raw)[0, 0]  # R, G, B of the top-left pixel
    spec = get_spec("cifar10")
    by_hand = [(pixel[c] / 255 - spec.mean[c]) / spec.std[c] for c in range(3)]
    assert plain[0][0][:, 0, 0].tolist() == pytest.approx(by_hand, abs=1e-5)
    augmented = create_dataset("cifar10", "test", transform="train", **base)
    torch.manual_seed(0)
    draws = torch.stack([augmented[0][0] for _ in range(20)])
    assert not all(torch.equal(draws[0], d) for d in draws)  # random crops/flips differ


def test_digits_padding_size_and_determinism() -> None:
    big = load_tensors("digits", "train")
    assert big.images.shape == (1442, 1, 28, 28) and big.images.dtype == torch.uint8
    # pad = round(28 / 7) = 4 rows/columns of zeros on each side
    assert (
        big.images[:, :, :4].max() == 0
        and big.images[:, :, -4:].max() == 0
        and big.images[..., :4].max() == 0
    )
    assert big.images[:, :, 4:-4, 4:-4].max() == 255  # sklearn's value 16 maps to 255
    small = load_tensors("digits", "test", size=16)
    assert small.images.shape == (355, 1, 16, 16)
    assert small.images[:, :, :2].max() == 0 and small.images[:, :, 2].max() > 0  # pad = round(16 / 7) = 2
    assert torch.equal(load_tensors("digits", "train").images, big.images)
    # the spec's normalisation constants are the train statistics at 28 px
    pixels = big.images.double() / 255
    assert pixels.mean().item() == pytest.approx(get_spec("digits").mean[0], abs=1e-4)
    assert pixels.std(correction=0).item() == pytest.approx(get_spec("digits").std[0], abs=1e-4)


# ----------------------------------------------------------------------- shared real data
@needs_shared
def test_mnist_shared_gz() -> None:
    train, test = load_tensors("mnist", "train", SHARED), load_tensors("mnist", "test", SHARED)
    assert train.images.shape == (60_000, 1, 28, 28) and test.images.shape == (10_000, 1, 28, 28)
    # label histograms from shared/data/MANIFEST.md
    assert torch.bincount(train.targets).tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]
    assert torch.bincount(test.targets).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert train.targets[:5].tolist() == [5, 0, 4, 1, 9] and test.targets[:5].tolist() == [7, 2, 1, 0, 4]
    assert train.subset_note is None and train.classes[0] == "0 - zero"
    # the classic constants 0.1307 / 0.3081 are the train statistics
    pixels = train.images.double() / 255
    assert pixels.mean().item() == pytest.approx(0.1307, abs=1e-4)
    assert pixels.std(correction=0).item() == pytest.approx(0.3081, abs=1e-4)
    x, y = create_dataset("mnist", "test", SHARED)[0]
    assert y == 7 and x.shape == (1, 28, 28)
    # range: (0 - 0.1307) / 0.3081 = -0.4242 ... (1 - 0.1307) / 0.3081 = 2.8215
    assert x.min().item() == pytest.approx(-0.4242, abs=1e-4) and x.max().item() == pytest.approx(
        2.8215, abs=1e-4
    )


@needs_shared
def test_cifar10_lossless_subset() -> None:
    train = load_tensors("cifar10", "train", SHARED, variant="lossless_subset")
    test = create_dataset("cifar10", "test", SHARED, variant="lossless_subset")
    assert train.images.shape == (4000, 3, 32, 32) and len(test) == 1000
    assert train.targets[:5].tolist() == [6, 9, 9, 4, 1] and test.targets[:5] == [3, 8, 8, 0, 6]
    assert torch.bincount(train.targets).tolist() == [396, 366, 420, 384, 422, 393, 414, 385, 407, 413]
    assert np.bincount(test.targets).tolist() == [103, 89, 100, 103, 90, 86, 112, 102, 106, 109]
    # pixels quoted in MANIFEST from the original data_batch_1: image 0 R[:3], B[-3:]
    assert train.images[0, 0, 0, :3].tolist() == [59, 43, 50] and train.images[0, 2, -1, -3:].tolist() == [
        140,
        84,
        72,
    ]
    assert test.variant == "lossless_subset" and "documented subset" in test.subset_note
    assert test.classes[:3] == ["airplane", "automobile", "bird"]
    # the spec's mean/std (full train set) are close to this subset's statistics
    pixels = train.images.double() / 255
    assert pixels.mean((0, 2, 3)).tolist() == pytest.approx(get_spec("cifar10").mean, abs=3e-3)
    x, _ = test[0]
    lo = [(0 - m) / s for m, s in zip(get_spec("cifar10").mean, get_spec("cifar10").std)]  # about -1.99
    assert x.shape == (3, 32, 32) and all(x[c].min() >= lo[c] - 1e-5 for c in range(3))


@needs_shared
def test_cifar10_default_is_jpeg_full_and_aligned() -> None:
    test = load_tensors("cifar10", "test", SHARED)
    assert test.variant == "jpeg_full" and "JPEG" in test.subset_note
    assert test.images.shape == (10_000, 3, 32, 32) and test.targets[:5].tolist() == [3, 8, 8, 0, 6]
    assert torch.bincount(test.targets).tolist() == [1000] * 10
    exact = load_tensors("cifar10", "test", SHARED, variant="lossless_subset")
    # MANIFEST: the JPEG copy differs from the exact pixels by a mean absolute error of ~5.8
    mae = (test.images[:1000].float() - exact.images.float()).abs().mean().item()
    assert 4.0 < mae < 8.0


@needs_shared
@pytest.mark.slow
def test_cifar10_jpeg_full_train() -> None:  # decodes 50,000 JPEGs on a cold cache
    train = load_tensors("cifar10", "train", SHARED, variant="jpeg_full")
    assert train.images.shape == (50_000, 3, 32, 32) and train.targets[:5].tolist() == [6, 9, 9, 4, 1]
    assert torch.bincount(train.targets).tolist() == [5000] * 10


@needs_shared
def test_cifar_errors_on_shared_root() -> None:
    with pytest.raises(DatasetNotFoundError, match="cifar-10-batches-py"):
        load_tensors("cifar10", "test", SHARED, variant="official")
    with pytest.raises(ValueError, match="variant must be one of"):
        load_tensors("cifar10", "test", SHARED, variant="lossy")
    with pytest.raises(DatasetNotFoundError, match="cifar-100-python") as err:
        load_tensors("cifar100", "test", SHARED)
    assert "download=True" in str(err.value)


@needs_shared
def test_tinyimagenet_shared() -> None:
    val = load_tensors("tinyimagenet", "val", SHARED)
    assert val.images.shape == (10_000, 3, 64, 64) and val.subset_note is None
    assert len(val.classes) == 200 and val.classes == sorted(val.classes)
    # official val_annotations.txt: val_0 -> n03444034, val_1 -> n04067472, val_2 -> n04070727
    assert [val.classes[t] for t in val.targets[:3]] == ["n03444034", "n04067472", "n04070727"]
    assert torch.bincount(val.targets).tolist() == [50] * 200
    train = load_tensors("tinyimagenet", "train", SHARED)
    assert train.images.shape == (20_000, 3, 64, 64) and torch.bincount(train.targets).tolist() == [100] * 200
    assert "100 of the 500" in train.subset_note and train.variant == "shared_npz"
    pixels = train.images[::4].double() / 255
    assert pixels.mean((0, 2, 3)).tolist() == pytest.approx(get_spec("tinyimagenet").mean, abs=3e-3)
    x, _ = create_dataset("tinyimagenet", "train", SHARED)[0]
    assert x.shape == (3, 64, 64) and x.dtype == torch.float32


@needs_shared
def test_imagewoof_shared_subset() -> None:
    train, val = create_dataset("imagewoof", "train", SHARED), create_dataset("imagewoof", "val", SHARED)
    assert (len(train), len(val)) == (500, 200) and len(train.classes) == 10
    assert np.bincount(train.targets).tolist() == [50] * 10 and np.bincount(val.targets).tolist() == [20] * 10
    assert train.classes[0] == "n02086240" and "documented subset" in train.subset_note
    for ds in (train, val):
        x, _ = ds[0]
        assert x.shape == (3, 224, 224) and x.dtype == torch.float32
    raw = create_dataset("imagewoof", "val", SHARED, transform=None)[0][0]
    assert isinstance(raw, Image.Image) and min(raw.size) == 320  # imagewoof2-320: shorter side 320


# ------------------------------------------------------ official layouts built by hand
def test_cub200_layout(tmp_path: Path) -> None:
    folder = tmp_path / "CUB_200_2011"
    names = ["001.Black_footed_Albatross", "002.Laysan_Albatross", "003.Sooty_Albatross"]
    rows = [(1, 1, 1), (2, 1, 0), (3, 2, 1), (4, 3, 0), (5, 3, 1)]  # (id, class id, is_training)
    for i, c, _ in rows:
        write_jpeg(folder / "images" / names[c - 1] / f"img{i}.jpg")
    (folder / "images.txt").write_text("".join(f"{i} {names[c - 1]}/img{i}.jpg\n" for i, c, _ in rows))
    (folder / "image_class_labels.txt").write_text("".join(f"{i} {c}\n" for i, c, _ in rows))
    (folder / "train_test_split.txt").write_text("".join(f"{i} {t}\n" for i, _, t in rows))
    (folder / "classes.txt").write_text("".join(f"{k} {n}\n" for k, n in enumerate(names, 1)))
    train = create_dataset("cub200", "train", tmp_path, allow_partial=True)
    test = create_dataset("cub200", "test", tmp_path, allow_partial=True)
    assert (
        train.classes == names and train.targets == [0, 1, 2] and test.targets == [0, 2]
    )  # 1-based -> 0-based
    assert "partial copy" in train.subset_note and train[0][0].shape == (3, 224, 224)
    with pytest.raises(
        IncompleteDatasetError, match=r"5,994 train images in 200 classes.*allow_partial=True"
    ):
        create_dataset("cub200", "train", tmp_path)
    (folder / "images" / names[2] / "img4.jpg").unlink()
    with pytest.raises(DatasetNotFoundError, match="1 missing"):
        create_dataset("cub200", "test", tmp_path, allow_partial=True)
    (folder / "images.txt").unlink()
    with pytest.raises(DatasetNotFoundError, match="lacks images.txt") as err:
        create_dataset("cub200", "train", tmp_path)
    assert str(folder) in str(err.value) and "CUB_200_2011.tgz" in str(err.value)


def test_stanford_dogs_layout(tmp_path: Path) -> None:
    scipy_io = pytest.importorskip("scipy.io")
    folder = tmp_path / "stanford_dogs"
    breeds = ["n02085620-Chihuahua", "n02085782-Japanese_spaniel"]

    def write_list(name: str, items: list[tuple[str, int]]) -> None:
        files = np.empty((len(items), 1), dtype=object)  # a MATLAB cell column, as in the official files
        for k, (f, _) in enumerate(items):
            files[k, 0] = np.array([f])
            write_jpeg(folder / "Images" / f)
        labels = np.array([[float(label)] for _, label in items])  # 1-based doubles
        scipy_io.savemat(str(folder / name), {"file_list": files, "labels": labels})

    write_list(
        "train_list.mat", [(f"{breeds[0]}/a.jpg", 1), (f"{breeds[1]}/b.jpg", 2), (f"{breeds[1]}/c.jpg", 2)]
    )
    write_list("test_list.mat", [(f"{breeds[1]}/d.jpg", 2)])
    train = create_dataset("stanford_dogs", "train", tmp_path, allow_partial=True)
    test = create_dataset("stanford_dogs", "test", tmp_path, allow_partial=True)
    assert train.classes == breeds and train.targets == [0, 1, 1] and test.targets == [1]
    assert test[0][0].shape == (3, 224, 224)
    with pytest.raises(IncompleteDatasetError, match="12,000 train images in 120 classes"):
        create_dataset("stanford_dogs", "train", tmp_path)
    (folder / "test_list.mat").unlink()
    with pytest.raises(DatasetNotFoundError, match="lacks test_list.mat") as err:
        create_dataset("stanford_dogs", "test", tmp_path)
    assert "lists.tar" in str(err.value)


def test_imagenet_and_imagewoof_folders(tmp_path: Path) -> None:
    for split, count in (("train", 3), ("val", 1)):
        for wnid in ("n01440764", "n01443537"):
            for k in range(count):
                write_jpeg(tmp_path / "imagenet" / split / wnid / f"{wnid}_{k}.JPEG")
                write_jpeg(tmp_path / "imagewoof2-320" / split / wnid / f"{k}.JPEG")
    train = create_dataset("imagenet", "train", tmp_path, allow_partial=True)
    assert (
        len(train) == 6
        and train.classes == ["n01440764", "n01443537"]
        and train.targets == [0, 0, 0, 1, 1, 1]
    )
    assert create_dataset("imagewoof", "val", tmp_path, allow_partial=True).variant == "official"
    with pytest.raises(IncompleteDatasetError, match="1,281,167 train images in 1000 classes"):
        create_dataset("imagenet", "train", tmp_path)
    # a flat val folder (as extracted from ILSVRC2012_img_val.tar) is not usable
    flat = tmp_path / "flat" / "imagenet"
    write_jpeg(flat / "train" / "n01440764" / "a.JPEG")
    write_jpeg(flat / "val" / "ILSVRC2012_val_00000001.JPEG")
    with pytest.raises(DatasetNotFoundError, match="one sub-folder of images per class") as err:
        create_dataset("imagenet", "val", tmp_path / "flat", allow_partial=True)
    assert "class folders" in str(err.value)


def test_tinyimagenet_official_layout_and_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOCUSLIB_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "data" / "tiny-imagenet-200"
    wnids = ["n09999999", "n01443537"]  # wnids.txt order is not sorted; classes are
    (folder).mkdir(parents=True)
    (folder / "wnids.txt").write_text("\n".join(wnids) + "\n")
    for w, colour in zip(wnids, [(250, 0, 0), (0, 0, 250)]):
        for k in range(2):
            write_jpeg(folder / "train" / w / "images" / f"{w}_{k}.JPEG", (64, 64), colour)
    write_jpeg(folder / "val" / "images" / "val_0.JPEG", (64, 64), (250, 0, 0))
    write_jpeg(folder / "val" / "images" / "val_1.JPEG", (64, 64), (0, 0, 250))
    (folder / "val" / "val_annotations.txt").write_text(
        f"val_0.JPEG\t{wnids[0]}\t0\t0\t63\t63\nval_1.JPEG\t{wnids[1]}\t1\t2\t60\t61\n"
    )
    train = load_tensors("tinyimagenet", "train", tmp_path / "data", allow_partial=True)
    assert train.classes == ["n01443537", "n09999999"] and train.targets.tolist() == [0, 0, 1, 1]
    assert (
        train.images.shape == (4, 3, 64, 64) and train.images[0, 2].float().mean() > 200
    )  # blue class first
    val = load_tensors("tinyimagenet", "test", tmp_path / "data", allow_partial=True)
    assert val.targets.tolist() == [1, 0] and val.variant == "official"
    assert len(list((tmp_path / "cache" / "decoded").glob("tinyimagenet-*.npz"))) == 2
    with pytest.raises(IncompleteDatasetError, match="100,000 train images"):
        load_tensors("tinyimagenet", "train", tmp_path / "data")
    (folder / "val" / "val_annotations.txt").write_text("val_0.JPEG\tn00000000\t0\t0\t1\t1\n")
    with pytest.raises(DatasetNotFoundError, match="val_annotations.txt"):
        load_tensors("tinyimagenet", "test", tmp_path / "data", allow_partial=True)


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 8, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_mnist_idx_plain_and_gz(tmp_path: Path) -> None:
    raw = tmp_path / "MNIST" / "raw"
    images = np.arange(3 * 28 * 28).reshape(3, 28, 28) % 256
    write_idx(raw / "t10k-images-idx3-ubyte", images)
    write_idx(raw / "t10k-labels-idx1-ubyte", np.array([3, 1, 4]))
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(
        gzip.compress((raw / "t10k-labels-idx1-ubyte").read_bytes())
    )
    (raw / "t10k-labels-idx1-ubyte").unlink()  # one plain, one gzipped file
    test = load_tensors("mnist", "test", tmp_path, allow_partial=True)
    assert test.targets.tolist() == [3, 1, 4] and torch.equal(
        test.images[:, 0], torch.from_numpy(images).to(torch.uint8)
    )
    (raw / "t10k-images-idx3-ubyte").write_bytes(b"not an idx file")
    with pytest.raises(DatasetNotFoundError, match="valid IDX files"):
        load_tensors("mnist", "test", tmp_path, allow_partial=True)


def test_imagenet_dogs_range_and_prepare(tmp_path: Path) -> None:
    from torchvision.models._meta import _IMAGENET_CATEGORIES as names

    # The dog range of the prepare module's docstring: indices 151..268, neighbours not dogs.
    assert (names[150], names[151], names[268], names[269]) == (
        "sea lion",
        "Chihuahua",
        "Mexican hairless",
        "timber wolf",
    )
    inside, outside = ["n02085620", "n02099601", "n02113978"], ["n02077923", "n02114367"]
    assert dog_wnids(outside + inside) == inside
    imagenet = tmp_path / "imagenet"
    for w in inside + outside:
        write_jpeg(imagenet / "train" / w / f"{w}_1.JPEG", (120, 90))
        write_jpeg(imagenet / "train" / w / f"{w}_2.JPEG", (50, 80))
        write_jpeg(imagenet / "val" / w / f"val_{w}.JPEG", (300, 200))
    with pytest.raises(ValueError, match="found 3 dog classes .* expected 118"):
        prepare(imagenet, tmp_path / "out")
    prepare_dogs_main(
        [
            "--imagenet",
            str(imagenet),
            "--out",
            str(tmp_path / "data" / "imagenet_dogs"),
            "--allow-partial",
            "--workers",
            "2",
        ]
    )
    train = load_tensors("imagenet_dogs", "train", tmp_path / "data", allow_partial=True)
    assert (
        train.classes == inside
        and train.images.shape == (6, 3, 64, 64)
        and train.targets.tolist() == [0, 0, 1, 1, 2, 2]
    )
    assert train.images[0, 0].float().mean() > 150  # the red test pictures stay red
    val = create_dataset("imagenet_dogs", "val", tmp_path / "data", allow_partial=True)
    assert len(val) == 3 and val[0][0].shape == (3, 64, 64)
    with pytest.raises(IncompleteDatasetError, match="147,873 train images in 118 classes"):
        load_tensors("imagenet_dogs", "train", tmp_path / "data")


# ------------------------------------------------------------------ missing / bad roots
def test_root_resolution_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOCUSLIB_DATA", str(tmp_path / "from-env"))
    with pytest.raises(DatasetNotFoundError, match="from-env"):
        create_dataset("cub200", "train")
    monkeypatch.delenv("FOCUSLIB_DATA")
    monkeypatch.setenv("FOCUSLIB_CACHE", str(tmp_path / "cache"))
    with pytest.raises(DatasetNotFoundError, match=re.escape(str(tmp_path / "cache" / "data"))):
        create_dataset("cub200", "train")
    with pytest.raises(DatasetNotFoundError, match="from-arg"):
        create_dataset("cub200", "train", tmp_path / "from-arg")


# ------------------------------------------------------------------------- BatchAugment
def marker_image(size: int) -> np.ndarray:
    """(3, size, size) uint8: R = row + 1, G = column + 1, B = 7; no pixel is 0 (padding is)."""
    rows, cols = np.meshgrid(np.arange(size) + 1, np.arange(size) + 1, indexing="ij")
    return np.stack([rows, cols, np.full_like(rows, 7)]).astype(np.uint8)


def expected_crop(image: np.ndarray, pad: int, top: int, left: int, flip: bool) -> np.ndarray:
    """RandomCrop(padding=pad, fill=0) at (top, left), then the flip, done by hand in numpy."""
    h, w = image.shape[1:]
    out = np.pad(image, ((0, 0), (pad, pad), (pad, pad)))[:, top : top + h, left : left + w]
    return out[:, :, ::-1] if flip else out


def read_draw(out: np.ndarray, pad: int) -> tuple[int, int, bool]:
    """Recover (top, left, flip) from an augmented marker image via its centre pixels: R - 1 =
    top + i - pad; G - 1 = left + j - pad, or left + (W - 1 - j) - pad when flipped."""
    c = out.shape[1] // 2
    top = int(out[0, c, c]) - 1 - c + pad
    flip = bool(out[1, c, c + 1] < out[1, c, c])
    left = int(out[1, c, c]) - 1 - (out.shape[2] - 1 - c if flip else c) + pad
    return top, left, flip


def check_draws(outs: torch.Tensor, image: np.ndarray, name: str) -> list[tuple[int, int, bool]]:
    """Each augmented output is exactly one hand-made crop/flip of ``image``; returns the draws."""
    pad, draws = get_spec(name).crop_padding, []
    for out in unnormalise(outs, name).numpy():
        draw = read_draw(out, pad)
        assert np.array_equal(out, expected_crop(image, pad, *draw)), draw  # zero padding, exact pixels
        draws.append(draw)
    return draws


@pytest.mark.parametrize(
    "name, n_fast, n_torchvision", [("cifar10", 6000, 1500), ("tinyimagenet", 3000, 600)]
)
def test_batch_augment_matches_torchvision_crop_flip(name: str, n_fast: int, n_torchvision: int) -> None:
    spec = get_spec(name)
    pad, size = spec.crop_padding, spec.image_size
    image = marker_image(size)
    batch = torch.from_numpy(image).expand(n_fast, -1, -1, -1).contiguous()
    fast = check_draws(BatchAugment(name, train=True)(batch, torch.Generator().manual_seed(0)), image, name)
    torch.manual_seed(0)
    tv = build_transform(spec, train=True)
    pil = Image.fromarray(image.transpose(1, 2, 0))
    slow = check_draws(torch.stack([tv(pil) for _ in range(n_torchvision)]), image, name)
    for draws, n in ((fast, n_fast), (slow, n_torchvision)):
        tops, lefts, flips = (np.array(v) for v in zip(*draws))
        # offsets uniform on {0, ..., 2 * pad}: each count n / (2p + 1) +- 6 binomial sd
        for offsets in (tops, lefts):
            counts = np.bincount(offsets, minlength=2 * pad + 1)
            p = 1 / (2 * pad + 1)
            assert len(counts) == 2 * pad + 1 and np.all(
                np.abs(counts - n * p) < 6 * np.sqrt(n * p * (1 - p))
            )
        assert abs(flips.sum() - n / 2) < 6 * np.sqrt(n / 4)  # flip with p = 0.5
    if name == "cifar10":  # all 9 x 9 x 2 = 162 outcomes occur (miss chance per outcome e^-37)
        assert len(set(fast)) == 162


@needs_shared
def test_batch_augment_eval_equals_torchvision_on_cifar() -> None:
    data = create_dataset("cifar10", "test", SHARED, variant="lossless_subset")
    reference = torch.stack([data[i][0] for i in range(64)])
    images = load_tensors("cifar10", "test", SHARED, variant="lossless_subset").images[:64]
    assert torch.allclose(BatchAugment("cifar10", train=False)(images), reference, atol=1e-5)


def test_batch_augment_none_generator_and_errors() -> None:
    digits, reference = load_tensors("digits", "train").images[:32], create_dataset("digits", "train")
    assert torch.allclose(
        BatchAugment("digits", train=True)(digits),  # "none": only normalised
        torch.stack([reference[i][0] for i in range(32)]),
        atol=1e-5,
    )
    cifar = torch.randint(0, 256, (16, 3, 32, 32), dtype=torch.uint8)
    aug = BatchAugment(get_spec("cifar10"), train=True)
    first = aug(cifar, torch.Generator().manual_seed(1))
    assert first.dtype == torch.float32 and first.shape == cifar.shape and first.is_contiguous()
    assert torch.equal(first, aug(cifar, torch.Generator().manual_seed(1)))
    assert not torch.equal(first, aug(cifar, torch.Generator().manual_seed(2)))
    with pytest.raises(ValueError, match="expects uint8"):
        aug(cifar.float())
    with pytest.raises(ValueError, match="RandomResizedCrop"):
        BatchAugment("cub200", train=True)
