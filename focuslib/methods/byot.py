"""BYOT, Be Your Own Teacher: Zhang, Song, Gao, Chen, Bao, Ma, *Be Your Own Teacher: Improve the
Performance of Convolutional Neural Networks via Self Distillation*, ICCV 2019 (arXiv:1905.08094),
and its journal version's code.

Official (journal) code: ``ArchipLab-LinfengZhang/pytorch-self-distillation-final @ 47ca93b``
(``resnet.py``: ``SepConv``, ``scala1-3``, ``attention1-3``, ``fc1-4``, forward returning the
deepest classifier first; ``train.py`` L17-24 defaults, L28-31 soft cross-entropy, L130-165 loss).
The ICCV paper gives no head architecture; its weights (alpha 0.1, T 3, beta 1e-6) are those of
the unofficial port ``luanyunteng/pytorch-be-your-own-teacher @ 8045079`` (``train.py``
L64-68, L196-228).

Heads (journal code), one per shallow stage k = 1..3 of a torchvision ResNet
(:class:`focuslib.models.heads.ByotHead`: attention, ``SepConv`` bottleneck, classifier), built
in :meth:`BYOT.setup` so that they are parameters of the method.

The deepest classifier is the model's own ``avgpool`` + ``fc`` (the official ``scala4`` + ``fc4``),
and ``predict`` uses it (the usual choice; FocusNet does not say which classifier it evaluated).

Parameter count (ResNet-18 with the 3x3 stem, 200 classes): backbone 11,271,432 + heads
1,216,216 = 12,487,648, i.e. FocusNet Table 6's 12.49 M exactly. The journal code's feature
adaptation layers (``Linear(512, 512)``, created lazily in ``train.py``, so a count of the
``resnet.py`` network omits them) add 262,656 each; two are used here (the official loop creates
three but uses two), +525,312 at training time only.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..losses import distillation_kl
from ..models import resnet_stage_channels, stage_features
from ..models.heads import ByotHead
from . import register_method
from .base import Method, StepOutput

BYOT_FORMS: tuple[str, ...] = ("official", "paper")
#: ``form -> (alpha, feature_weight)`` defaults: journal code ``loss_coefficient`` 0.3 and
#: ``feature_loss_coefficient`` 0.03; ICCV form alpha 0.1 and beta 1e-6 (port). T = 3 in both.
BYOT_DEFAULTS: dict[str, tuple[float, float]] = {"official": (0.3, 0.03), "paper": (0.1, 1e-6)}
#: Shallow stages whose features are distilled in the journal code: its loop skips the head
#: next to the deepest one (``if index != 1`` over the deepest-first list), i.e. stage 3.
OFFICIAL_FEATURE_STAGES: tuple[int, ...] = (1, 2)


def _soft_cross_entropy(logits: Tensor, teacher_logits: Tensor, temperature: float) -> Tensor:
    """``-mean_b sum_c softmax(t/T) log softmax(z/T)`` (journal ``train.py`` L28-31), no ``T^2``."""
    teacher = torch.softmax(teacher_logits.detach() / temperature, dim=1)
    return -(teacher * torch.log_softmax(logits / temperature, dim=1)).sum(dim=1).mean()


def byot_loss(
    deep_logits: Tensor,
    head_logits: Sequence[Tensor],
    targets: Tensor,
    deep_feature: Tensor | None = None,
    head_features: Sequence[Tensor | None] = (),
    *,
    form: str = "official",
    alpha: float = 0.3,
    temperature: float = 3.0,
    feature_weight: float = 0.03,
) -> tuple[Tensor, dict[str, Tensor]]:
    """BYOT's loss; the deepest classifier (logits and feature) is the detached teacher.

    ``form="official"`` (journal ``train.py`` L147-165)::

        CE(z_0) + sum_k [alpha softCE_T(z_k, sg z_0) + (1 - alpha) CE(z_k)] + w sum_k ||h_k - sg f_0||_2

    ``form="paper"`` (ICCV form, weights as in the port)::

        (1 - alpha) [CE(z_0) + sum_k CE(z_k)] + alpha T^2 sum_k KL(sg p_0^T || p_k^T) + w sum_k ||h_k - sg f_0||_2^2

    The paper names a KL; the port's soft cross-entropy differs from it by the teacher's
    entropy, a constant with the same gradients. The port also masks the hint to positions
    where either feature is positive; that mask is not in the paper and is left out.

    ``||.||_2`` is the un-squared L2 norm over the whole batch tensor (``torch.dist``), ``||.||_2^2``
    the plain sum of squares. ``head_features[k]`` is the hint for head k (adapted by a linear
    layer in the official form) or ``None`` for no feature term. Returns the loss and its three
    weighted parts ``ce``, ``kd``, ``feature`` (detached; they sum to the loss).
    """
    if form not in BYOT_FORMS:
        raise ValueError(f"unknown BYOT form {form!r}; use one of {BYOT_FORMS}")
    hints = [(k, h) for k, h in enumerate(head_features) if h is not None]
    if hints and deep_feature is None:
        raise ValueError("feature hints need the deepest feature (deep_feature)")
    ce_heads = sum(F.cross_entropy(z, targets) for z in head_logits)
    ce_deep = F.cross_entropy(deep_logits, targets)
    zero = deep_logits.new_zeros(())
    if form == "official":
        ce = ce_deep + (1.0 - alpha) * ce_heads
        kd = alpha * sum((_soft_cross_entropy(z, deep_logits, temperature) for z in head_logits), zero)
        feature = feature_weight * sum((torch.linalg.vector_norm(h - deep_feature.detach()) for _, h in hints), zero)
    else:
        ce = (1.0 - alpha) * (ce_deep + ce_heads)
        kd = alpha * sum((distillation_kl(z, deep_logits, temperature) for z in head_logits), zero)
        feature = feature_weight * sum(((h - deep_feature.detach()).pow(2).sum() for _, h in hints), zero)
    loss = ce + kd + feature
    return loss, {"ce": ce.detach(), "kd": kd.detach(), "feature": feature.detach()}


@register_method
class BYOT(Method):
    """BYOT self-distillation from the deepest classifier into three attention/SepConv heads.

    ``form="official"`` (default): journal code, alpha 0.3, T 3, feature weight 0.03 on linearly
    adapted features of the stage-1 and stage-2 heads. ``form="paper"``: ICCV form, alpha 0.1,
    T 3, beta 1e-6 on the raw features of all three heads. ``alpha``/``feature_weight`` left as
    ``None`` take the form's default. (The journal code also turns on AutoAugment + Cutout and
    trains 250 epochs with weight decay 5e-4; those belong to the run configuration.)
    """

    name = "byot"

    def __init__(
        self,
        form: str = "official",
        alpha: float | None = None,
        temperature: float = 3.0,
        feature_weight: float | None = None,
    ) -> None:
        super().__init__()
        if form not in BYOT_FORMS:
            raise ValueError(f"unknown BYOT form {form!r}; use one of {BYOT_FORMS}")
        default_alpha, default_feature_weight = BYOT_DEFAULTS[form]
        self.form = form
        self.alpha = default_alpha if alpha is None else alpha
        self.temperature = temperature
        self.feature_weight = default_feature_weight if feature_weight is None else feature_weight
        if not 0.0 <= self.alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {self.alpha}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if self.feature_weight < 0:
            raise ValueError(f"feature_weight must be >= 0, got {self.feature_weight}")
        self.heads = nn.ModuleList()
        self.adaptation = nn.ModuleDict()

    def setup(self, model: nn.Module, num_classes: int) -> None:
        """Build the three shallow heads (and, official form, the feature adaptation layers)."""
        channels = resnet_stage_channels(model, self.name)
        device = next(model.parameters()).device
        self.heads = nn.ModuleList(ByotHead(channels[k:], num_classes) for k in range(3)).to(device)
        stages = OFFICIAL_FEATURE_STAGES if self.form == "official" and self.feature_weight > 0 else ()
        self.adaptation = nn.ModuleDict({str(k): nn.Linear(channels[3], channels[3]) for k in stages}).to(device)

    def _hints(self, head_features: Sequence[Tensor]) -> list[Tensor | None]:
        if self.feature_weight == 0:
            return [None] * len(head_features)
        if self.form == "paper":
            return list(head_features)
        return [
            self.adaptation[str(k)](h) if str(k) in self.adaptation else None
            for k, h in enumerate(head_features, 1)
        ]

    def training_step(
        self,
        model: nn.Module,
        x: Tensor | tuple[Tensor, ...],
        y: Tensor,
        teacher_logits: Tensor | None = None,
        epoch: int = 0,
        num_epochs: int = 1,
    ) -> StepOutput:
        if len(self.heads) == 0:
            raise RuntimeError("call BYOT.setup(model, num_classes) before training (it builds the heads)")
        features, logits = stage_features(model, x)
        deep_feature = torch.flatten(model.avgpool(features[3]), 1)
        head_logits, head_features = zip(*(head(f) for head, f in zip(self.heads, features[:3])))
        loss, terms = byot_loss(
            logits,
            head_logits,
            y,
            deep_feature,
            self._hints(head_features),
            form=self.form,
            alpha=self.alpha,
            temperature=self.temperature,
            feature_weight=self.feature_weight,
        )
        return StepOutput(loss, logits, y, terms)

