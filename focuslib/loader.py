"""Batches for the trainer: in-memory tensors with whole-batch augmentation (the fast
path), or a torch DataLoader over image files. Both draw the order of the samples from one
seeded ``torch.Generator``, so an epoch is a pure function of ``(seed, epoch)``."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler, Subset

from . import datasets


def epoch_generator(seed: int, epoch: int, rank: int = 0) -> torch.Generator:
    """The generator that orders and augments epoch ``epoch`` (independent of resumes)."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch * 7919 + rank)


def batch_indices(
    targets: Tensor, batch_size: int, generator: torch.Generator, paired: bool = False,
    rank: int = 0, world_size: int = 1,
) -> list[Tensor]:
    """Shuffled index batches; with ``paired``, each batch of B is followed by B random
    same-class partners (CS-KD's sampler, Yun et al. CVPR 2020). Under DDP every rank takes
    an interleaved shard of each global batch."""
    n = len(targets)
    order = torch.randperm(n, generator=generator)
    partners = same_class_partners(targets, generator) if paired else None
    batches = []
    for start in range(0, n, batch_size * world_size):
        idx = order[start : start + batch_size * world_size][rank::world_size]
        if len(idx) == 0:
            continue
        batches.append(torch.cat([idx, partners[idx]]) if partners is not None else idx)
    return batches


def _limited(note: str | None, limit: int | None, total: int) -> str | None:
    """Add a train/test limit to a data set's subset note."""
    if limit is None or limit >= total:
        return note
    return "; ".join(filter(None, [note, f"first {limit} of {total} examples only"]))


def same_class_partners(targets: Tensor, generator: torch.Generator) -> Tensor:
    """For every sample, a uniformly drawn index of its class (possibly itself)."""
    targets = targets.long()
    by_class = torch.argsort(targets, stable=True)
    counts = torch.bincount(targets)
    offsets = torch.cumsum(counts, 0) - counts
    draw = (torch.rand(len(targets), generator=generator) * counts[targets]).long()
    return by_class[offsets[targets] + draw]


@dataclass
class TrainData:
    """What the trainer iterates over, whichever path serves it."""

    num_examples: int
    targets: Tensor  # CPU int64, for sampling
    classes: list[str]
    variant: str | None = None  # which copy of the data set was read (e.g. CIFAR-10's lossy JPEG copy)
    subset_note: str | None = None  # set when the split is not the complete original one

    def describe(self) -> dict[str, object]:
        """What a result records about its data."""
        return {"num_examples": self.num_examples, "variant": self.variant, "subset_note": self.subset_note}


class TensorBatches:
    """The fast path: uint8 images resident on ``device``, augmented a batch at a time."""

    def __init__(self, name: str, split: str, root, limit: int | None, device: torch.device,
                 augment: bool, dataset_kwargs: dict) -> None:
        data = datasets.load_tensors(name, split, root=root, **dataset_kwargs)
        images, targets = data.images, data.targets.long()
        note = _limited(data.subset_note, limit, len(targets))
        if limit is not None:
            images, targets = images[:limit], targets[:limit]
        self.info = TrainData(len(targets), targets, list(data.classes), data.variant, note)
        self.images = images.to(device, non_blocking=True)
        self.labels = targets.to(device, non_blocking=True)
        self.augment = datasets.BatchAugment(name, train=augment)
        self.device = device

    def batches(self, index_batches: Sequence[Tensor], generator: torch.Generator, views: int = 1
                ) -> Iterator[tuple[Tensor | tuple[Tensor, ...], Tensor, Tensor]]:
        """Yield ``(x, y, idx)``; ``x`` is a tuple of ``views`` augmentations when views > 1."""
        aug_gen = _device_generator(generator, self.device)
        for idx in index_batches:
            dev_idx = idx.to(self.device, non_blocking=True)
            raw = self.images[dev_idx]
            xs = tuple(self.augment(raw, generator=aug_gen) for _ in range(views))
            yield (xs[0] if views == 1 else xs), self.labels[dev_idx], idx


class _Views(Dataset):
    """Wraps a data set so that item i yields ``views`` independent transforms of image i."""

    def __init__(self, base: Dataset, views: int) -> None:
        self.base, self.views = base, views

    def __len__(self) -> int:
        return len(self.base)  # type: ignore[arg-type]

    def __getitem__(self, i: int):
        items = [self.base[i] for _ in range(self.views)]
        return tuple(x for x, _ in items), items[0][1]


class _FixedBatches(Sampler[list[int]]):
    def __init__(self, index_batches: Sequence[Tensor]) -> None:
        self.index_batches = index_batches

    def __iter__(self):
        return (b.tolist() for b in self.index_batches)

    def __len__(self) -> int:
        return len(self.index_batches)


class FileBatches:
    """The general path: a DataLoader with per-image torchvision transforms in workers."""

    def __init__(self, name: str, split: str, root, limit: int | None, device: torch.device,
                 augment: bool, dataset_kwargs: dict, num_workers: int) -> None:
        transform = "default" if augment else "test"
        ds = datasets.create_dataset(name, split, root=root, transform=transform, **dataset_kwargs)
        targets = torch.as_tensor(list(ds.targets)).long()
        note = _limited(ds.subset_note, limit, len(targets))
        if limit is not None:
            ds, targets = Subset(ds, range(min(limit, len(targets)))), targets[:limit]
        full = ds.dataset if isinstance(ds, Subset) else ds
        self.info = TrainData(len(targets), targets, list(full.classes), full.variant, note)
        self.dataset, self.device, self.num_workers = ds, device, num_workers

    def batches(self, index_batches, generator: torch.Generator, views: int = 1):
        ds = _Views(self.dataset, views) if views > 1 else self.dataset
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=generator))
        loader = DataLoader(
            ds, batch_sampler=_FixedBatches(index_batches), num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda", worker_init_fn=_seed_worker,
            generator=torch.Generator().manual_seed(seed),
        )
        for (x, y), idx in zip(loader, index_batches):
            if views > 1:
                x = tuple(v.to(self.device, non_blocking=True) for v in x)
            else:
                x = x.to(self.device, non_blocking=True)
            yield x, y.to(self.device, non_blocking=True), idx


def _seed_worker(worker_id: int) -> None:
    """Seed numpy and ``random`` in a DataLoader worker from torch's per-worker seed."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def _device_generator(generator: torch.Generator, device: torch.device) -> torch.Generator:
    """A generator on ``device`` seeded from ``generator`` (CPU generators can't drive CUDA ops)."""
    if device.type == "cpu":
        return generator
    seed = int(torch.randint(0, 2**62, (1,), generator=generator))
    return torch.Generator(device=device).manual_seed(seed)


def open_split(name: str, split: str, *, root, limit: int | None, device: torch.device, augment: bool,
               dataset_kwargs: dict, num_workers: int) -> TensorBatches | FileBatches:
    """The fast in-memory path where the data set allows it, else the DataLoader path."""
    if datasets.get_spec(name).in_memory:
        return TensorBatches(name, split, root, limit, device, augment, dataset_kwargs)
    return FileBatches(name, split, root, limit, device, augment, dataset_kwargs, num_workers)
