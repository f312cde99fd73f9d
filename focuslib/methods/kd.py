"""Knowledge distillation (Hinton, Vinyals, Dean 2015): standard KD (paper Table 5) and the
defective-reverse KD preset (paper Table 9).

No T or alpha is given in the FocusNet paper (Sec. 4.4, 4.6). The defaults are the
closest attested presets, from the Tf-KD repository (Yuan et al., CVPR 2020,
``yuanli2333/Teacher-free-Knowledge-Distillation`` @ d000ab3):
``experiments/kd_experiments/mobilenet_distill/resnet18_teacher/params.json`` (ResNet-18 ->
MobileNetV2: alpha 0.95, T 20) and ``.../resnet18_distill/mobilenet_v2_teacher/params.json``
(MobileNetV2 -> ResNet-18: alpha 0.6, T 20). That repo's ``loss_kd`` averages the KL over
elements; ours is the per-sample sum averaged over the batch (``batchmean``), Hinton's scale.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ..losses import distillation_kl, wide
from . import register_method
from .base import Method, StepOutput


@register_method
class KnowledgeDistillation(Method):
    """``(1 - alpha) CE(y, s) + alpha T^2 KL(softmax(t/T) || softmax(s/T))`` against a frozen
    teacher whose eval-mode logits the trainer supplies; predicts with the student alone."""

    name = "kd"
    needs_teacher = True

    def __init__(self, alpha: float = 0.95, temperature: float = 20.0) -> None:
        super().__init__()
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"KD alpha weights the distillation term and must be in [0, 1], got {alpha}")
        if not temperature > 0:
            raise ValueError(f"KD temperature must be > 0, got {temperature}")
        self.alpha, self.temperature = float(alpha), float(temperature)

    def training_step(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        teacher_logits: Tensor | None = None,
        epoch: int = 0,
        num_epochs: int = 1,
    ) -> StepOutput:
        if teacher_logits is None:
            raise ValueError(f"{self.name} needs teacher_logits from a frozen teacher (set RunConfig.teacher)")
        logits = model(x)
        ce = F.cross_entropy(wide(logits), y)  # bf16 up to float32; float64 stays
        kl = distillation_kl(logits, teacher_logits, self.temperature)
        loss = (1.0 - self.alpha) * ce + self.alpha * kl
        return StepOutput(loss=loss, logits=logits.detach(), targets=y, terms={"ce": ce.detach(), "kl": kl.detach()})



@register_method
class DeReverseKD(KnowledgeDistillation):
    """Table 9's defective-reverse KD: KD with the reverse-KD preset (alpha 0.6, T 20). The
    poorly trained MobileNetV2 teacher is set by the run's teacher config, not here."""

    name = "dereverse_kd"

    def __init__(self, alpha: float = 0.6, temperature: float = 20.0) -> None:
        super().__init__(alpha, temperature)
