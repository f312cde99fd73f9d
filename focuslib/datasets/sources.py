"""What a loader returns for one split: decoded images in memory (:class:`ImageTensors`) or a
list of encoded images on disk / in memory (:class:`ImageFiles`). Both give PIL images by index."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torch import Tensor
from torchvision.datasets.folder import pil_loader


@dataclass
class ImageTensors:
    """One in-memory split: ``images`` uint8 (N, C, H, W), ``targets`` int64 (N,), ``classes``.

    ``variant`` names the copy that was read (``"official"`` or a documented adapter such as
    ``"jpeg_full"``); ``subset_note`` is ``None`` only for the complete official split with the
    original pixels, otherwise a sentence saying how the data differ (subset, lossy copy, ...).
    """

    images: Tensor
    targets: Tensor
    classes: list[str]
    variant: str = "official"
    subset_note: str | None = None

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(
                f"images must be uint8 (N, C, H, W), got {self.images.dtype} {tuple(self.images.shape)}"
            )
        self.targets = torch.as_tensor(self.targets, dtype=torch.int64)
        if self.targets.shape != (len(self.images),):
            raise ValueError(f"{len(self.images)} images but targets of shape {tuple(self.targets.shape)}")

    def __len__(self) -> int:
        return len(self.images)

    def image(self, index: int) -> Image.Image:
        pixels = self.images[index].permute(1, 2, 0).numpy()
        return (
            Image.fromarray(pixels[:, :, 0], "L") if pixels.shape[2] == 1 else Image.fromarray(pixels, "RGB")
        )


@dataclass
class ImageFiles:
    """One split as encoded images: ``sources[i]`` is a file path or the bytes of an image file."""

    sources: list[Path | bytes]
    targets: list[int]
    classes: list[str]
    variant: str = "official"
    subset_note: str | None = None

    def __post_init__(self) -> None:
        if len(self.sources) != len(self.targets):
            raise ValueError(f"{len(self.sources)} images but {len(self.targets)} targets")

    def __len__(self) -> int:
        return len(self.sources)

    def image(self, index: int) -> Image.Image:
        source = self.sources[index]
        if isinstance(source, bytes):
            with Image.open(io.BytesIO(source)) as img:
                return img.convert("RGB")
        return pil_loader(str(source))
