"""Images/s of the two training input pipelines on the same data set:

* fast path: ``load_tensors`` once, the whole uint8 split on ``--device``, then per batch an
  index draw and :class:`focuslib.datasets.BatchAugment` (crop + flip + normalise on the device);
* DataLoader: ``create_dataset`` with its default torchvision transform (PIL image per item),
  ``torch.utils.data.DataLoader`` with shuffling, batches moved to ``--device``.

Data: the CIFAR-10 lossless subset of focusbook's shared data when present, else digits.

    python benchmarks/bench_data.py --device cpu --batches 50
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from focuslib.datasets import BatchAugment, create_dataset, load_tensors

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def pick_data(root: Path) -> tuple[str, dict[str, Any]]:
    if (root / "cifar10" / "cifar10_lossless_subset.npz").is_file():
        return "cifar10", {"variant": "lossless_subset"}
    return "digits", {}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def fast_batches(
    name: str, root: Path, options: dict[str, Any], batch: int, device: torch.device
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    data = load_tensors(name, "train", root, **options)
    images, targets = data.images.to(device), data.targets.to(device)
    augment = BatchAugment(name, train=True).to(device)
    generator = torch.Generator(device).manual_seed(0)
    while True:  # epochs of a random permutation, last partial batch dropped
        order = torch.randperm(len(images), device=device, generator=generator)
        for start in range(0, len(order) - batch + 1, batch):
            idx = order[start : start + batch]
            yield augment(images[idx], generator), targets[idx]


def loader_batches(
    name: str, root: Path, options: dict[str, Any], batch: int, device: torch.device, workers: int
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    dataset = create_dataset(name, "train", root, **options)
    loader = DataLoader(
        dataset,
        batch_size=batch,
        shuffle=True,
        drop_last=True,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        persistent_workers=workers > 0,
    )
    while True:
        for x, y in loader:
            yield x.to(device, non_blocking=True), y.to(device, non_blocking=True)


def measure(
    batches: Iterator[tuple[torch.Tensor, torch.Tensor]], count: int, device: torch.device
) -> tuple[float, int]:
    """(seconds, images) for ``count`` batches after one warm-up batch."""
    next(batches)
    sync(device)
    start, images = time.perf_counter(), 0
    for _ in range(count):
        x, _ = next(batches)
        images += len(x)
    sync(device)
    return time.perf_counter() - start, images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu", help="e.g. cpu, cuda")
    parser.add_argument("--batches", type=int, default=50, help="timed batches per pipeline")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    parser.add_argument("--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)")
    parser.add_argument("--root", type=Path, default=Path(os.environ.get("FOCUSLIB_DATA") or SHARED))
    args = parser.parse_args()
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    name, options = pick_data(args.root)
    print(
        f"data: {name} {options} train split, root {args.root}; device {device}; "
        f"{args.batches} batches of {args.batch_size}; torch threads {torch.get_num_threads()}"
    )
    pipelines: dict[str, Callable[[], Iterator[tuple[torch.Tensor, torch.Tensor]]]] = {
        "fast path (load_tensors + BatchAugment)": lambda: fast_batches(
            name, args.root, options, args.batch_size, device
        ),
        f"DataLoader + torchvision ({args.workers} workers)": lambda: loader_batches(
            name, args.root, options, args.batch_size, device, args.workers
        ),
    }
    rates = {}
    for label, make in pipelines.items():
        seconds, images = measure(make(), args.batches, device)
        rates[label] = images / seconds
        print(f"{label:<45} {images:>7} images in {seconds:6.2f} s = {rates[label]:>10,.0f} images/s")
    fast, slow = rates.values()
    print(f"speed-up of the fast path: {fast / slow:.1f}x")


if __name__ == "__main__":
    main()
