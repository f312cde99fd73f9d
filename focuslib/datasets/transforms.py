"""The torchvision transform of every data set, built from its spec (paper Sec. 4.2: no
augmentation for MNIST, random cropping and flipping for the others)."""

from __future__ import annotations

import torch
from torchvision.transforms import v2

from .spec import DatasetSpec

#: The ImageNet evaluation recipe resizes the shorter side to 256 before the 224 centre crop.
EVAL_RESIZE = 256


def build_transform(spec: DatasetSpec, train: bool) -> v2.Compose:
    """PIL image (or uint8 tensor) -> normalised float32 (C, H, W) tensor.

    ``crop_flip`` (train): zero-pad by ``spec.crop_padding``, random ``image_size`` crop,
    horizontal flip with p=0.5. ``rrc_flip``: RandomResizedCrop(224) + flip for training,
    Resize(256) + CenterCrop(224) for evaluation. ``none`` and all other evaluation: no change.
    """
    if spec.augmentation == "rrc_flip":
        geometry = (
            [v2.RandomResizedCrop(spec.image_size), v2.RandomHorizontalFlip()]
            if train
            else [v2.Resize(EVAL_RESIZE), v2.CenterCrop(spec.image_size)]
        )
        steps = [*geometry, v2.ToImage()]  # geometry on the PIL image: cheaper for large photos
    elif spec.augmentation == "crop_flip" and train:
        steps = [
            v2.ToImage(),
            v2.RandomCrop(spec.image_size, padding=spec.crop_padding, fill=0),
            v2.RandomHorizontalFlip(),
        ]
    else:
        steps = [v2.ToImage()]
    return v2.Compose([*steps, v2.ToDtype(torch.float32, scale=True), v2.Normalize(spec.mean, spec.std)])
