"""FRSKD and OurLoss+FRSKD (FocusNet Table 7).

FRSKD: M. Ji, S. Shin, S. Hwang, G. Park, I.-C. Moon, *Refine Myself by Teaching Myself:
Feature Refinement via Self-Knowledge Distillation*, CVPR 2021 (arXiv:2103.08273v1).
Official code: ``MingiJi/FRSKD @ 98b87e5`` (``distill_loss/AT.py``, ``distill_loss/KD.py``,
``utils.py train``); summarised in ``shared/reference/methods.md`` §10-§11.

A BiFPN-style self-teacher (:class:`focuslib.models.bifpn.BiFPNSelfTeacher`) reads the
classifier's stage features and predicts the labels itself. The classifier learns from
``CE(z) + alpha T^2 KL(sg p_T || p) + beta sum_i AT_i``; the self-teacher only from its own
``CE(z_T)`` (whose gradient also reaches the classifier through the features it reads, as in the
official code). Only the classifier is deployed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..losses import WarmRule, distillation_kl, focus_picking_loss, validate_focus_options
from ..models import stage_channels, stage_features
from ..models.bifpn import BiFPNSelfTeacher
from . import register_method
from .base import Method, StepOutput

# ---------------------------------------------------------------------------------------
# Pure loss functions
# ---------------------------------------------------------------------------------------


def attention_map(features: Tensor) -> Tensor:
    """Spatial attention of a feature map (Zagoruyko & Komodakis 2017, as in FRSKD ``AT.py``).

    ``a(F) = normalize(mean_c F^2)`` flattened to ``(B, H*W)``, L2-normalised per sample;
    computed in float32 (or wider) even for half-precision features.
    """
    wide = features.to(torch.promote_types(features.dtype, torch.float32))
    return F.normalize(wide.pow(2).mean(dim=1).flatten(1), dim=1)


def at_loss(features: Sequence[Tensor], teacher_features: Sequence[Tensor]) -> Tensor:
    """``sum_i mean_{b,p} (a(F_i) - a(sg T_i))^2`` over paired levels (FRSKD ``AT.py``)."""
    if len(features) != len(teacher_features):
        raise ValueError(
            f"at_loss needs one teacher feature map per classifier feature map, got "
            f"{len(features)} and {len(teacher_features)}"
        )
    return sum(
        (attention_map(f) - attention_map(t.detach())).pow(2).mean()
        for f, t in zip(features, teacher_features)
    )


def frskd_loss(
    logits: Tensor,
    teacher_logits: Tensor,
    features: Sequence[Tensor],
    teacher_features: Sequence[Tensor],
    targets: Tensor,
    alpha: float = 2.0,
    beta: float = 100.0,
    temperature: float = 4.0,
) -> tuple[Tensor, dict[str, Tensor]]:
    """FRSKD's loss ``CE(z) + CE(z_T) + alpha T^2 KL(sg p_T||p) + beta sum_i AT_i`` (official ``utils.py``).

    Returns the total and the detached terms ``ce``, ``ce_teacher``, ``kd``, ``at``.
    """
    terms = {
        "ce": F.cross_entropy(logits, targets),
        "ce_teacher": F.cross_entropy(teacher_logits, targets),
        "kd": distillation_kl(logits, teacher_logits, temperature),  # teacher side detached inside
        "at": at_loss(features, teacher_features),
    }
    loss = terms["ce"] + terms["ce_teacher"] + alpha * terms["kd"] + beta * terms["at"]
    return loss, {k: v.detach() for k, v in terms.items()}


# ---------------------------------------------------------------------------------------
# Methods
# ---------------------------------------------------------------------------------------


@register_method
class FRSKD(Method):
    """FRSKD (Ji et al., CVPR 2021): classifier + BiFPN self-teacher trained jointly.

    Defaults are the official README's ResNet-18 / CIFAR-100 setting: ``alpha = 2``,
    ``beta = 100``, ``T = 4``, BiFPNc ``width = 2``, ``depth = 2`` (``main.py``).
    Prediction uses the classifier only.
    """

    name = "frskd"

    def __init__(
        self, alpha: float = 2.0, beta: float = 100.0, temperature: float = 4.0, width: int = 2, depth: int = 2
    ) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if alpha < 0 or beta < 0:
            raise ValueError(f"alpha and beta must be >= 0, got alpha={alpha}, beta={beta}")
        self.alpha, self.beta, self.temperature = float(alpha), float(beta), float(temperature)
        self.width, self.depth = int(width), int(depth)
        self.self_teacher: BiFPNSelfTeacher | None = None

    def setup(self, model: nn.Module, num_classes: int) -> None:
        """Build the self-teacher for ``model``'s stage features (on the model's device, in its dtype)."""
        param = next(model.parameters())
        teacher = BiFPNSelfTeacher(stage_channels(model), num_classes, self.width, self.depth)
        self.self_teacher = teacher.to(device=param.device, dtype=param.dtype)

    def training_step(
        self,
        model: nn.Module,
        x: Tensor | tuple[Tensor, ...],
        y: Tensor,
        teacher_logits: Tensor | None = None,
        epoch: int = 0,
        num_epochs: int = 1,
    ) -> StepOutput:
        if self.self_teacher is None:
            raise RuntimeError(f"call {type(self).__name__}.setup(model, num_classes) before training_step")
        features, logits = stage_features(model, x)
        teacher_features, self_teacher_logits = self.self_teacher(features)
        loss, terms = self.loss(logits, self_teacher_logits, features, teacher_features, y)
        return StepOutput(loss=loss, logits=logits.detach(), targets=y, terms=terms)

    def loss(
        self,
        logits: Tensor,
        teacher_logits: Tensor,
        features: Sequence[Tensor],
        teacher_features: Sequence[Tensor],
        targets: Tensor,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """The batch loss given classifier and self-teacher outputs."""
        return frskd_loss(
            logits, teacher_logits, features, teacher_features, targets, self.alpha, self.beta, self.temperature
        )


@register_method
class FRSKDNoFeat(FRSKD):
    """FRSKD\\F (FocusNet Table 7): FRSKD without feature distillation, i.e. ``beta = 0``."""

    name = "frskd_nofeat"

    def __init__(self, alpha: float = 2.0, temperature: float = 4.0, width: int = 2, depth: int = 2) -> None:
        # beta 0 by definition
        super().__init__(alpha=alpha, beta=0.0, temperature=temperature, width=width, depth=depth)


def ourloss_frskd_loss(
    logits: Tensor,
    teacher_logits: Tensor,
    features: Sequence[Tensor],
    teacher_features: Sequence[Tensor],
    targets: Tensor,
    beta: float = 100.0,
    keep_classifier_ce: bool = False,
    kd_alpha: float = 0.0,
    temperature: float = 4.0,
    fp_alpha: float = 1.0,
    fp_beta: float = 1.0,
    **fp_options: Any,
) -> tuple[Tensor, dict[str, Tensor]]:
    """OurLoss+FRSKD's loss (FocusNet Sec. 4.3.2, Table 7; wiring reconstructed, methods.md §11).

    ``FP(z; z_b = sg z_T) + CE(z_T) + beta sum_i AT_i [+ CE(z)] [+ kd_alpha T^2 KL(sg p_T || p)]``:
    FP is the focus-picking loss (FocusNet Eq. 12, :func:`focuslib.losses.focus_picking_loss` with
    its alpha, beta = ``fp_alpha``, ``fp_beta`` and keyword options ``fp_options``, e.g.
    ``warm_rule``) with the detached self-teacher logits as baseline logits; it
    takes the place of FRSKD's ``CE(z) + alpha KL``. Returns the total and detached terms
    ``fp``, ``ce_teacher``, ``at`` (and ``ce``, ``kd`` when switched on).
    """
    terms = {
        "fp": focus_picking_loss(logits, teacher_logits.detach(), targets, fp_alpha, fp_beta, **fp_options),
        "ce_teacher": F.cross_entropy(teacher_logits, targets),
        "at": at_loss(features, teacher_features),
    }
    loss = terms["fp"] + terms["ce_teacher"] + beta * terms["at"]
    if keep_classifier_ce:
        terms["ce"] = F.cross_entropy(logits, targets)
        loss = loss + terms["ce"]
    if kd_alpha:
        terms["kd"] = distillation_kl(logits, teacher_logits, temperature)
        loss = loss + kd_alpha * terms["kd"]
    return loss, {k: v.detach() for k, v in terms.items()}


@register_method
class OurLossFRSKD(FRSKD):
    """OurLoss+FRSKD: FRSKD's paradigm with FocusNet's focus-picking loss (FocusNet Table 7).

    The paper only says it "replace[s] [FRSKD's] distillation loss function with our proposed
    focus-picking loss function" (Sec. 4.3.2); the wiring is a reconstruction (methods.md §11)
    with its open choices as options:

    * ``keep_classifier_ce`` (default False): FP replaces FRSKD's ``CE(z) + alpha KL`` term,
      FP's ``L_cls`` being the classifier's cross-entropy;
    * ``kd_alpha`` (default 0): keep FRSKD's soft-label KL (at ``temperature``) with this weight;
    * ``beta`` (default 100, FRSKD's README value): the attention-transfer feature
      distillation is kept ("passes feature maps to each other", Sec. 4.3.2);
    * ``fp_alpha``, ``fp_beta``, ``detach_d``, ``warm_rule``, ``warm_temperature``,
      ``label_smoothing``: FocusNet's loss options with the ``focusnet`` method's defaults
      (paper Eq. 4-12; ``warm_rule="official"`` and ``label_smoothing=0.1`` give the official
      ``fpLoss.py``, methods.md §1.2);
    * not an option: the self-teacher is trained jointly from scratch with its own ``CE(z_T)``,
      so early in training its logits are near random, unlike FocusNet's frozen pre-trained
      baseline.
    """

    name = "ourloss_frskd"

    def __init__(
        self,
        beta: float = 100.0,
        keep_classifier_ce: bool = False,
        kd_alpha: float = 0.0,
        temperature: float = 4.0,
        fp_alpha: float = 1.0,
        fp_beta: float = 1.0,
        detach_d: bool = True,
        warm_rule: WarmRule = "paper",
        warm_temperature: float = 2.0,
        label_smoothing: float = 0.0,
        width: int = 2,
        depth: int = 2,
    ) -> None:
        super().__init__(alpha=kd_alpha, beta=beta, temperature=temperature, width=width, depth=depth)
        validate_focus_options(fp_alpha, fp_beta, warm_rule, warm_temperature, label_smoothing)
        self.keep_classifier_ce = bool(keep_classifier_ce)
        self.fp_alpha, self.fp_beta = float(fp_alpha), float(fp_beta)
        self.fp_options: dict[str, Any] = {
            "detach_d": bool(detach_d),
            "warm_rule": warm_rule,
            "warm_temperature": float(warm_temperature),
            "label_smoothing": float(label_smoothing),
        }

    def loss(
        self,
        logits: Tensor,
        teacher_logits: Tensor,
        features: Sequence[Tensor],
        teacher_features: Sequence[Tensor],
        targets: Tensor,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        return ourloss_frskd_loss(
            logits,
            teacher_logits,
            features,
            teacher_features,
            targets,
            beta=self.beta,
            keep_classifier_ce=self.keep_classifier_ce,
            kd_alpha=self.alpha,
            temperature=self.temperature,
            fp_alpha=self.fp_alpha,
            fp_beta=self.fp_beta,
            **self.fp_options,
        )

    def hparams(self) -> dict[str, Any]:
        return {
            "beta": self.beta,
            "keep_classifier_ce": self.keep_classifier_ce,
            "kd_alpha": self.alpha,
            "temperature": self.temperature,
            "fp_alpha": self.fp_alpha,
            "fp_beta": self.fp_beta,
            **self.fp_options,
            "width": self.width,
            "depth": self.depth,
        }
