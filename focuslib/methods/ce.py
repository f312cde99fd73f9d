"""The baseline: plain cross-entropy with one-hot labels (paper Eq. 3)."""

from __future__ import annotations

from torch import Tensor, nn

from . import register_method
from .base import Method, StepOutput, cross_entropy_output


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
