"""ONE, On-the-fly Native Ensemble: Lan, Zhu, Gong, *Knowledge Distillation by On-the-Fly Native
Ensemble*, NeurIPS 2018 (arXiv:1806.04606).

Official code: ``Lan1991Xu/ONE_NeurIPS2018 @ 54afde3`` (``models/cifar/resnet.py ONE_ResNet``
L165-264, ``cifar_one.py`` L284-297 and L397-399, ``loss/kl_loss.py``, ``utils/ramps.py``).

The official CIFAR ResNet-32/110 shares the stem, layer1 and layer2 and gives each of 3 branches
its own copy of the last stage (layer3) and classifier. A gate reads the shared output:
global average pool -> Linear(C, 3) -> BatchNorm1d -> ReLU -> softmax, and the gated sum of the
branch logits is the on-the-fly teacher. For a torchvision ResNet the same split shares
stem..layer3 and copies layer4 + fc (FocusNet does not say where it split ResNet-18; this mapping
is the natural one, methods.md Sec. 5). Branch 0 *is* the model's own layer4 + fc; the other
branches are deep copies made in :meth:`ONE.setup` and re-initialised
(:func:`focuslib.models.fresh_copy`), because the official branches are built separately and
start from different random weights (identical copies would receive identical gradients and
never diverge). Only branch 0 is deployed (``predict`` = the
plain model), which is what FocusNet's Table 6 counts (11.27 M).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..losses import distillation_kl
from ..models import fresh_copy, resnet_stage_channels, stage_features
from ..models.heads import ensemble_gate
from . import register_method
from .base import Method, StepOutput

#: Epochs of the official CIFAR-100 run (``scripts/ONE_ResNet32.sh``), against which the
#: ramp-up length is scaled when ``scale_rampup=True``.
OFFICIAL_EPOCHS = 300


def one_rampup_weight(epoch: float, rampup_epochs: float) -> float:
    """Consistency weight ``w = exp(-5 (1 - min(epoch, R)/R)^2)`` (``utils/ramps.py sigmoid_rampup``,
    from Laine & Aila 2017); ``epoch`` is 0-based as in the official loop; ``R = 0`` gives 1."""
    if rampup_epochs <= 0:
        return 1.0
    phase = 1.0 - min(max(float(epoch), 0.0), rampup_epochs) / rampup_epochs
    return math.exp(-5.0 * phase * phase)


def one_loss(
    branch_logits: Sequence[Tensor],
    gate: Tensor,
    targets: Tensor,
    consistency_weight: float = 1.0,
    temperature: float = 3.0,
) -> tuple[Tensor, dict[str, Tensor]]:
    """ONE's loss (``cifar_one.py`` L294-297):
    ``sum_i CE(z_i) + CE(z_e) + w * sum_i T^2 KL(sg softmax(z_e/T) || softmax(z_i/T))``,
    with the gated ensemble ``z_e = sum_i g_i z_i`` (``gate``: (B, K), rows summing to 1).

    The KL is the batch mean (``kl_loss.py``: sum / B); its target is detached, but the
    ensemble (and through it the gate) still learns from its own CE. The official target adds
    ``eps = 1e-7`` to the softmax ``p`` as a guard against ``log 0``; ``log_softmax`` makes that
    guard unnecessary and it is omitted. Per sample and branch (before ``T^2``) the official KL exceeds
    ours by ``eps * sum_n (log(p_n + eps) - log q_n) + sum_n p_n log(1 + eps / p_n)``: the second
    part is below ``N * eps``, but the first grows with the branch's negative log-probabilities
    ``-log q_n``, so over many classes and confident logits it reaches 1e-3 to 1e-2, not ``N * eps``.
    Returns the loss and detached terms ``ce_branches``, ``ce_ensemble``, ``kl`` (unweighted
    sum over branches) and ``weight``.
    """
    if gate.ndim != 2 or gate.shape != (targets.shape[0], len(branch_logits)):
        raise ValueError(
            f"gate must have shape (batch, branches) = ({targets.shape[0]}, {len(branch_logits)}), "
            f"got {tuple(gate.shape)}"
        )
    stacked = torch.stack(list(branch_logits))  # (K, B, N)
    ensemble = (gate.t().unsqueeze(-1) * stacked).sum(dim=0)
    ce_branches = sum(F.cross_entropy(z, targets) for z in branch_logits)
    ce_ensemble = F.cross_entropy(ensemble, targets)
    kl = sum(distillation_kl(z, ensemble, temperature) for z in branch_logits)
    loss = ce_branches + ce_ensemble + consistency_weight * kl
    terms = {
        "ce_branches": ce_branches.detach(),
        "ce_ensemble": ce_ensemble.detach(),
        "kl": kl.detach(),
        "weight": torch.tensor(consistency_weight, device=loss.device),
    }
    return loss, terms


@register_method
class ONE(Method):
    """ONE with ``num_branches`` branches (official 3), T = 3 (hard-coded in ``kl_loss.py``),
    and the consistency ramp-up length ``rampup_epochs`` R = 80 (``--consistency_rampup``).

    The official run ramps up over 80 of 300 epochs. ``scale_rampup=True`` keeps that ratio
    for other run lengths (R = 80 * num_epochs / 300, e.g. 53.3 for the paper's 200 epochs);
    the default keeps the official R = 80 epochs (for a 200-epoch run the weight reaches 1
    at 40 % of training; a short smoke run hardly distils at all).
    """

    name = "one"

    def __init__(
        self,
        num_branches: int = 3,
        temperature: float = 3.0,
        rampup_epochs: float = 80.0,
        scale_rampup: bool = False,
    ) -> None:
        super().__init__()
        if num_branches < 2:
            raise ValueError(f"ONE needs at least 2 branches to form an ensemble, got {num_branches}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if rampup_epochs < 0:
            raise ValueError(f"rampup_epochs must be >= 0, got {rampup_epochs}")
        self.num_branches, self.temperature = num_branches, temperature
        self.rampup_epochs, self.scale_rampup = rampup_epochs, scale_rampup
        self.layer4 = nn.ModuleList()
        self.fc = nn.ModuleList()
        self.gate: nn.Module | None = None

    def setup(self, model: nn.Module, num_classes: int) -> None:
        """Add ``num_branches - 1`` fresh copies of ``model.layer4`` and ``model.fc`` and the gate."""
        shared_channels = resnet_stage_channels(model, self.name)[2]
        device = next(model.parameters()).device
        self.layer4 = nn.ModuleList(fresh_copy(model.layer4) for _ in range(self.num_branches - 1))
        self.fc = nn.ModuleList(fresh_copy(model.fc) for _ in range(self.num_branches - 1))
        self.gate = ensemble_gate(shared_channels, self.num_branches).to(device)

    @property
    def uses_run_length(self) -> bool:  # type: ignore[override]
        return self.scale_rampup

    def rampup_length(self, num_epochs: int) -> float:
        """R in epochs, scaled to ``num_epochs`` when ``scale_rampup``."""
        return self.rampup_epochs * num_epochs / OFFICIAL_EPOCHS if self.scale_rampup else self.rampup_epochs

    def training_step(
        self,
        model: nn.Module,
        x: Tensor | tuple[Tensor, ...],
        y: Tensor,
        teacher_logits: Tensor | None = None,
        epoch: int = 0,
        num_epochs: int = 1,
    ) -> StepOutput:
        if self.gate is None:
            raise RuntimeError("call ONE.setup(model, num_classes) before training (it builds the branches)")
        features, logits = stage_features(model, x)
        shared = features[2]  # layer3 output
        branches = [logits] + [
            fc(torch.flatten(model.avgpool(layer4(shared)), 1)) for layer4, fc in zip(self.layer4, self.fc)
        ]
        weight = one_rampup_weight(epoch, self.rampup_length(num_epochs))
        loss, terms = one_loss(branches, self.gate(shared), y, weight, self.temperature)
        return StepOutput(loss, logits, y, terms)

