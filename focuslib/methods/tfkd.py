"""Teacher-free knowledge distillation (Tf-KD): Yuan, Tay, Li, Wang, Feng, *Revisiting Knowledge
Distillation via Label Smoothing Regularization*, CVPR 2020 (arXiv:1909.11723).

Official code: ``yuanli2333/Teacher-free-Knowledge-Distillation @ d000ab3``,
``my_loss_function.py`` (``loss_kd_self`` L19-30, ``loss_kd_regularization`` L33-51).

Two variants, both registered, because FocusNet's Table 7 has a single "Tf-KD" row and does not
say which one it ran (Table 6 counts 11.27 M parameters for it, which both variants satisfy: they
add nothing at inference):

* ``tfkd_self`` (Tf-KD_self): the teacher is the same architecture trained normally beforehand
  (the trainer supplies its eval-mode logits on the same augmented batch).
* ``tfkd_reg`` (Tf-KD_reg): a manually designed virtual teacher, 0.99 on the target class.

Both official losses use ``nn.KLDivLoss()``'s default (element-wise mean, ``1/N`` of the batch
mean) and compensate with a ``multiplier``. That default is deprecated in torch, so the reduction
is written out here (``kl_reduction``), keeping the official scale by default.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..losses import distillation_kl
from . import register_method
from .base import Method, StepOutput

#: ``"elementwise_mean"``: sum / (B * N), the official code's ``nn.KLDivLoss()``;
#: ``"batchmean"``: sum / B.
KL_REDUCTIONS: tuple[str, ...] = ("elementwise_mean", "batchmean")


def _check_options(alpha: float, temperature: float, multiplier: float, kl_reduction: str) -> None:
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha weights the distillation term against CE and must be in [0, 1], got {alpha}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if not multiplier >= 0:
        raise ValueError(f"multiplier must be >= 0, got {multiplier}")
    if kl_reduction not in KL_REDUCTIONS:
        raise ValueError(f"unknown kl_reduction {kl_reduction!r}; use one of {KL_REDUCTIONS}")


def _per_class_scale(kl_reduction: str, num_classes: int) -> float:
    """Factor turning a batch-mean KL into the requested reduction."""
    return 1.0 / num_classes if kl_reduction == "elementwise_mean" else 1.0


def tfkd_self_loss(
    logits: Tensor,
    targets: Tensor,
    teacher_logits: Tensor,
    alpha: float = 0.95,
    temperature: float = 6.0,
    multiplier: float = 50.0,
    kl_reduction: str = "elementwise_mean",
) -> tuple[Tensor, dict[str, Tensor]]:
    """Tf-KD_self (``loss_kd_self``): ``(1-a) CE + a * multiplier * T^2 KL(sg p_t^T || p_s^T)``.

    The KL is reduced per ``kl_reduction`` (official: element-wise mean). Returns the loss and
    the detached terms ``ce`` and ``kd`` (the latter already scaled by ``multiplier * T^2``).
    """
    _check_options(alpha, temperature, multiplier, kl_reduction)
    ce = F.cross_entropy(logits, targets)
    kd = distillation_kl(logits, teacher_logits, temperature) * multiplier
    kd = kd * _per_class_scale(kl_reduction, logits.shape[1])
    loss = (1.0 - alpha) * ce + alpha * kd
    return loss, {"ce": ce.detach(), "kd": kd.detach()}


def virtual_teacher(
    targets: Tensor, num_classes: int, correct_prob: float = 0.99, dtype: torch.dtype = torch.float32
) -> Tensor:
    """Tf-KD_reg's manually designed teacher ``p^d``: ``correct_prob`` on the target class and
    ``(1 - correct_prob) / (N - 1)`` elsewhere (a probability vector, not logits)."""
    if num_classes < 2:
        raise ValueError(f"the virtual teacher needs at least 2 classes, got {num_classes}")
    if not 0.0 < correct_prob < 1.0:
        raise ValueError(f"correct_prob must be in (0, 1), got {correct_prob}")
    other = (1.0 - correct_prob) / (num_classes - 1)
    return F.one_hot(targets.long(), num_classes).to(dtype) * (correct_prob - other) + other


def tfkd_reg_loss(
    logits: Tensor,
    targets: Tensor,
    alpha: float = 0.1,
    temperature: float = 20.0,
    multiplier: float = 100.0,
    correct_prob: float = 0.99,
    kl_reduction: str = "elementwise_mean",
    student_temperature: bool = False,
) -> tuple[Tensor, dict[str, Tensor]]:
    """Tf-KD_reg: ``(1-a) CE + a * multiplier * KL(softmax(p^d / T) || softmax(z'))``, no ``T^2``.

    Official form (``student_temperature=False``, ``loss_kd_regularization``): the softmax is
    taken of the *probability vector* ``p^d`` divided by ``T``, and the student ``z' = z`` is
    not temperature-scaled. ``student_temperature=True`` gives the paper's form (Sec. 4, the
    student softened at the same temperature, ``z' = z / T``). Returns the loss and the
    detached terms ``ce`` and ``reg`` (scaled by ``multiplier``).
    """
    _check_options(alpha, temperature, multiplier, kl_reduction)
    num_classes = logits.shape[1]
    dtype = torch.promote_types(logits.dtype, torch.float32)  # half precision is cast up
    teacher = torch.softmax(virtual_teacher(targets, num_classes, correct_prob, dtype) / temperature, dim=1)
    student = (logits / temperature if student_temperature else logits).to(dtype)
    kl_batchmean = F.kl_div(torch.log_softmax(student, dim=1), teacher, reduction="sum") / logits.shape[0]
    reg = kl_batchmean * _per_class_scale(kl_reduction, num_classes) * multiplier
    ce = F.cross_entropy(logits, targets)
    loss = (1.0 - alpha) * ce + alpha * reg
    return loss, {"ce": ce.detach(), "reg": reg.detach()}


@register_method
class TfKDSelf(Method):
    """Tf-KD_self: distil from a pre-trained copy of the same architecture.

    Defaults are the official ResNet-18 / CIFAR-100 preset (``experiments/kd_experiments/
    resnet18_distill/resnet18_self_teacher/params.json``): alpha 0.95, T 6, multiplier 50, with
    the official element-wise-mean KL. Note that this reduction divides by the number of
    classes, so the same multiplier weighs the KL half as much at 200 classes as at 100.
    """

    name = "tfkd_self"
    needs_teacher = True

    def __init__(
        self,
        alpha: float = 0.95,
        temperature: float = 6.0,
        multiplier: float = 50.0,
        kl_reduction: str = "elementwise_mean",
    ) -> None:
        super().__init__()
        _check_options(alpha, temperature, multiplier, kl_reduction)
        self.alpha, self.temperature, self.multiplier, self.kl_reduction = alpha, temperature, multiplier, kl_reduction

    def training_step(
        self,
        model: nn.Module,
        x: Tensor | tuple[Tensor, ...],
        y: Tensor,
        teacher_logits: Tensor | None = None,
        epoch: int = 0,
        num_epochs: int = 1,
    ) -> StepOutput:
        if teacher_logits is None:
            raise ValueError(
                "tfkd_self needs teacher_logits from a pre-trained network of the same architecture; "
                "give the run a teacher configuration (RunConfig.teacher)"
            )
        logits = model(x)
        loss, terms = tfkd_self_loss(
            logits, y, teacher_logits, self.alpha, self.temperature, self.multiplier, self.kl_reduction
        )
        return StepOutput(loss, logits, y, terms)



@register_method
class TfKDReg(Method):
    """Tf-KD_reg: a virtual teacher with ``correct_prob`` (0.99) on the target class.

    Defaults are the official ResNet-18 preset (``experiments/base_experiments/base_resnet18/
    params.json``): alpha 0.1, T 20, multiplier 100, official form (student not
    temperature-scaled, no ``T^2``, element-wise-mean KL). ``student_temperature=True`` selects
    the paper's form.
    """

    name = "tfkd_reg"

    def __init__(
        self,
        alpha: float = 0.1,
        temperature: float = 20.0,
        multiplier: float = 100.0,
        correct_prob: float = 0.99,
        kl_reduction: str = "elementwise_mean",
        student_temperature: bool = False,
    ) -> None:
        super().__init__()
        _check_options(alpha, temperature, multiplier, kl_reduction)
        if not 0.0 < correct_prob < 1.0:
            raise ValueError(f"correct_prob must be in (0, 1), got {correct_prob}")
        self.alpha, self.temperature, self.multiplier = alpha, temperature, multiplier
        self.correct_prob, self.kl_reduction, self.student_temperature = correct_prob, kl_reduction, student_temperature

    def training_step(
        self,
        model: nn.Module,
        x: Tensor | tuple[Tensor, ...],
        y: Tensor,
        teacher_logits: Tensor | None = None,
        epoch: int = 0,
        num_epochs: int = 1,
    ) -> StepOutput:
        logits = model(x)
        loss, terms = tfkd_reg_loss(logits, y, **self.hparams())
        return StepOutput(loss, logits, y, terms)

