"""SLA-SD: self-supervised label augmentation with self-distillation.

H. Lee, S. J. Hwang, J. Shin, *Self-supervised Label Augmentation via Input
Transformations*, ICML 2020 (arXiv:1910.05872v2). Official code: ``hankook/SLA @ bc5d9cd``
(``augmentations.py rotation``, ``trainers.py create_sla_sd_trainer``, ``train.py``);
summarised in ``shared/reference/methods.md`` §9.

Each image is rotated by ``k * 90`` degrees, ``k = 0..3``; a joint head ``Linear(D, 4N)``
learns the joint label ``4 y + k`` on all views, the model's own classifier (the "single
head") learns ``y`` on the un-rotated view and is distilled from the joint head's aggregated
logits ``agg[b, c] = mean_k joint[4b + k, 4c + k]`` (detached).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..losses import distillation_kl
from ..models import classifier, penultimate
from . import register_method
from .base import Method, StepOutput

#: Rotations by 0, 90, 180 and 270 degrees.
NUM_ROTATIONS = 4


def rotate_views(x: Tensor) -> Tensor:
    """The 4 rotations of each image, sample-major: row ``4 b + k`` is ``rot90(x[b], k)``."""
    if x.ndim != 4 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"SLA rotations need square images (B, C, H, H), got shape {tuple(x.shape)}")
    return torch.stack([torch.rot90(x, k, dims=(2, 3)) for k in range(NUM_ROTATIONS)], dim=1).flatten(0, 1)


def sla_joint_targets(targets: Tensor, num_transforms: int = NUM_ROTATIONS) -> Tensor:
    """Joint labels ``M y + k`` for the sample-major views (row ``M b + k``)."""
    k = torch.arange(num_transforms, device=targets.device)
    return (targets[:, None] * num_transforms + k).flatten()


def sla_aggregate(joint_logits: Tensor, num_transforms: int = NUM_ROTATIONS) -> Tensor:
    """Aggregated logits ``agg[b, c] = (1/M) sum_k joint[M b + k, M c + k]`` (mean of logits).

    ``joint_logits`` has shape ``(M B, M N)``; the result ``(B, N)``.
    """
    rows, cols = joint_logits.shape
    m = num_transforms
    if rows % m or cols % m:
        raise ValueError(f"joint logits {tuple(joint_logits.shape)} are not multiples of {m} views")
    per_view = joint_logits.view(rows // m, m, cols // m, m)  # [b, k, c, j]
    return per_view.diagonal(dim1=1, dim2=3).mean(dim=-1)  # [b, c] = mean_k [b, k, c, k]


def slasd_loss(
    joint_logits: Tensor,
    single_logits: Tensor,
    targets: Tensor,
    temperature: float = 1.0,
    with_large_loss: bool = False,
) -> tuple[Tensor, dict[str, Tensor]]:
    """``CE(joint, 4y+k) [x4] + CE(single, y) + T^2 KL(sg softmax(agg/T) || softmax(single/T))``.

    ``joint_logits`` ``(4B, 4N)`` over the sample-major rotated views, ``single_logits``
    ``(B, N)`` of the un-rotated views; KL is averaged over the batch (official trainer).
    ``with_large_loss`` multiplies the joint CE by the number of views (official
    ``--with-large-loss``, meant for ImageNet-scale data). Returns the total and the detached
    terms ``joint``, ``single``, ``kd``.
    """
    m = NUM_ROTATIONS
    joint = F.cross_entropy(joint_logits, sla_joint_targets(targets, m))
    terms = {
        "joint": joint * m if with_large_loss else joint,
        "single": F.cross_entropy(single_logits, targets),
        "kd": distillation_kl(single_logits, sla_aggregate(joint_logits, m), temperature),  # sg(agg) inside
    }
    return terms["joint"] + terms["single"] + terms["kd"], {k: v.detach() for k, v in terms.items()}


@register_method
class SLASD(Method):
    """SLA+SD (Lee et al., ICML 2020) with the official defaults (``T = 1``, no large loss).

    The single head is the model's own classifier; the joint head ``Linear(D, 4N)`` is built
    in :meth:`setup`. Prediction: the single head on the plain view (SLA+SD), or with
    ``aggregated_prediction=True`` the joint head's aggregate over the 4 rotations (SLA+AG,
    4 forward passes).
    """

    name = "slasd"

    def __init__(
        self, temperature: float = 1.0, with_large_loss: bool = False, aggregated_prediction: bool = False
    ) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.temperature = float(temperature)
        self.with_large_loss = bool(with_large_loss)
        self.aggregated_prediction = bool(aggregated_prediction)
        self.joint_head: nn.Linear | None = None

    def setup(self, model: nn.Module, num_classes: int) -> None:
        """Build the joint head ``Linear(D, 4N)`` on the model's device."""
        fc = classifier(model)
        self.joint_head = nn.Linear(fc.in_features, NUM_ROTATIONS * num_classes).to(fc.weight.device)

    def _joint_head(self) -> nn.Linear:
        if self.joint_head is None:
            raise RuntimeError("call SLASD.setup(model, num_classes) before training or predicting")
        return self.joint_head

    def training_step(
        self,
        model: nn.Module,
        x: Tensor | tuple[Tensor, ...],
        y: Tensor,
        teacher_logits: Tensor | None = None,
        epoch: int = 0,
        num_epochs: int = 1,
    ) -> StepOutput:
        features, logits = penultimate(model, rotate_views(x))  # one pass over all 4B views
        single = logits[::NUM_ROTATIONS]  # the single head on the un-rotated views
        loss, terms = slasd_loss(self._joint_head()(features), single, y, self.temperature, self.with_large_loss)
        return StepOutput(loss=loss, logits=single.detach(), targets=y, terms=terms)

    @torch.no_grad()
    def predict(self, model: nn.Module, x: Tensor) -> Tensor:
        if not self.aggregated_prediction:
            return model(x)
        features, _ = penultimate(model, rotate_views(x))
        return sla_aggregate(self._joint_head()(features))

