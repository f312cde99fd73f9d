"""Make ImageNet Dogs (paper Table 1, No. 5) from an ILSVRC-2012 copy::

    python -m focuslib.datasets.prepare_imagenet_dogs --imagenet DIR --out DIR

``--imagenet`` holds ``train/<wnid>/`` and ``val/<wnid>/`` (validation sorted into class
folders). The output is ``OUT/imagenet_dogs_64.npz`` (see :mod:`focuslib.datasets.imagenet_dogs`).

Why these 118 classes. ILSVRC-2012 numbers its 1000 classes by sorting their wnids. Index 151 is
n02085620 (Chihuahua) and index 268 is n02113978 (Mexican hairless); index 150 is sea lion and
269 timber wolf (torchvision's ``_IMAGENET_CATEGORIES`` names those indices; the test suite checks
it), and every class in between is a dog breed. So the dogs are the contiguous index range
151..268, that is 268 - 151 + 1 = 118 classes: exactly the wnids ``w`` with
``n02085620 <= w <= n02113978`` (string order is index order). 118 is Table 1's N, and
118 x 50 validation images per class = 5,900, Table 1's validation count.

Down-sampling: each whole image is resized to 64x64 with Pillow's box filter, without cropping
(the "box" variant of the down-sampled ImageNet of Chrabaszcz, Loshchilov and Hutter, 2017). The
paper does not say how its 64x64 images were made; this choice is ours.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from torchvision.datasets.folder import IMG_EXTENSIONS, make_dataset

from .catalog import get_spec
from .imagenet_dogs import FILE_NAME, SPLIT_KEYS

FIRST_DOG, LAST_DOG = "n02085620", "n02113978"
SIZE = 64


def dog_wnids(wnids: Iterable[str]) -> list[str]:
    """The sorted wnids in ImageNet's dog range ``[n02085620, n02113978]``."""
    return sorted(w for w in wnids if FIRST_DOG <= w <= LAST_DOG)


def downsample(path: str) -> np.ndarray:
    """One image as RGB uint8 (3, 64, 64): the whole picture, box-filtered."""
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BOX)).transpose(2, 0, 1)


def _convert(samples: Sequence[tuple[str, int]], workers: int) -> tuple[np.ndarray, np.ndarray]:
    images = np.empty((len(samples), 3, SIZE, SIZE), np.uint8)
    with ThreadPoolExecutor(max_workers=workers) as pool:  # Pillow releases the GIL while decoding
        for i, pixels in enumerate(pool.map(downsample, [p for p, _ in samples])):
            images[i] = pixels
            if (i + 1) % 10_000 == 0:
                print(f"  {i + 1:,}/{len(samples):,}", flush=True)
    return images, np.array([t for _, t in samples], np.int16)


def prepare(
    imagenet: Path, out: Path, *, workers: int = os.cpu_count() or 1, allow_partial: bool = False
) -> Path:
    """Write ``out/imagenet_dogs_64.npz`` from the ImageNet copy at ``imagenet``; returns its path."""
    spec = get_spec("imagenet_dogs")
    train_dir = imagenet / "train"
    if not train_dir.is_dir() or not (imagenet / "val").is_dir():
        raise FileNotFoundError(
            f"{imagenet} must hold train/<wnid>/ and val/<wnid>/ (ImageNet class folders)"
        )
    wnids = dog_wnids(p.name for p in train_dir.iterdir() if p.is_dir())
    if len(wnids) != spec.num_classes and not allow_partial:
        raise ValueError(
            f"found {len(wnids)} dog classes ({FIRST_DOG}..{LAST_DOG}) in {train_dir}, expected "
            f"{spec.num_classes}; pass --allow-partial to convert an incomplete copy"
        )
    arrays: dict[str, np.ndarray] = {"wnids": np.array(wnids)}
    for split, key in SPLIT_KEYS.items():
        samples = make_dataset(
            str(imagenet / key), {w: i for i, w in enumerate(wnids)}, extensions=IMG_EXTENSIONS
        )
        expected = spec.train_size if split == "train" else spec.test_size
        if len(samples) != expected and not allow_partial:
            raise ValueError(
                f"{imagenet / key} has {len(samples):,} dog images, Table 1 has {expected:,}; "
                "pass --allow-partial to convert it anyway"
            )
        print(f"{key}: {len(samples):,} images of {len(wnids)} classes", flush=True)
        arrays[f"{key}_images"], arrays[f"{key}_labels"] = _convert(samples, workers)
    out.mkdir(parents=True, exist_ok=True)
    target, tmp = out / FILE_NAME, out / f".{FILE_NAME}.tmp"
    with open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    os.replace(tmp, target)
    return target


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--imagenet", type=Path, required=True, help="ILSVRC-2012 folder with train/ and val/ class folders"
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (use ROOT/imagenet_dogs)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="decoding threads")
    parser.add_argument(
        "--allow-partial", action="store_true", help="convert a copy with missing classes or images"
    )
    args = parser.parse_args(argv)
    print(f"wrote {prepare(args.imagenet, args.out, workers=args.workers, allow_partial=args.allow_partial)}")


if __name__ == "__main__":
    main()
