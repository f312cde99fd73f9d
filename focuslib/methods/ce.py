"""The baseline: plain cross-entropy with one-hot labels (paper Eq. 3)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ..losses import wide
from . import register_method
from .base import Method, StepOutput


@register_method
class CrossEntropy(Method):
    """Train the network with ``H(y, softmax(z))`` (Eq. 3); predict with its logits."""

    name = "ce"

    def training_step(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        teacher_logits: Tensor | None = None,
        epoch: int = 0,
        num_epochs: int = 1,
    ) -> StepOutput:
        return cross_entropy_output(model(x), y)


def cross_entropy_output(logits: Tensor, y: Tensor) -> StepOutput:
    """The step output of plain cross-entropy (Eq. 3) on ``logits``, logged as ``ce``."""
    loss = F.cross_entropy(wide(logits), y)  # bf16 up to float32; float64 stays
    return StepOutput(loss=loss, logits=logits.detach(), targets=y, terms={"ce": loss.detach()})
