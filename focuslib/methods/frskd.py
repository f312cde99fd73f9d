"""FRSKD and OurLoss+FRSKD (FocusNet Table 7).

FRSKD: M. Ji, S. Shin, S. Hwang, G. Park, I.-C. Moon, *Refine Myself by Teaching Myself:
Feature Refinement via Self-Knowledge Distillation*, CVPR 2021 (arXiv:2103.08273v1).
Official code: ``MingiJi/FRSKD @ 98b87e5`` (``models/bifpnc.py``, ``models/utils.py``,
``distill_loss/AT.py``, ``distill_loss/KD.py``, ``utils.py train``); summarised in
``shared/reference/methods.md`` §10-§11.

A BiFPN-style self-teacher reads the classifier's stage features and predicts the labels
itself. The classifier learns from ``CE(z) + alpha T^2 KL(sg p_T || p) + beta sum_i AT_i``;
the self-teacher only from its own ``CE(z_T)`` (whose gradient also reaches the classifier
through the features it reads, as in the official code). Only the classifier is deployed.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.ops import Conv2dNormActivation

from ..losses import WarmRule, distillation_kl, focus_picking_loss, validate_focus_options
from ..models import stage_features
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
# The self-teacher (BiFPNc of the official code, width w, depth d)
# ---------------------------------------------------------------------------------------


def _pointwise(in_channels: int, out_channels: int) -> nn.Module:
    """1x1 conv (no bias) - BN - ReLU (the official ``DepthConvBlock`` with kernel 1)."""
    return Conv2dNormActivation(in_channels, out_channels, kernel_size=1)


def _separable(channels: int, depth: int) -> nn.Sequential:
    """``depth`` units of [ReLU (not the first)] depth-wise 3x3, point-wise 1x1, BN."""
    layers: list[nn.Module] = []
    for unit in range(depth):
        if unit:
            layers.append(nn.ReLU())
        layers += [
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
            nn.Conv2d(channels, channels, 1, bias=False),
            nn.BatchNorm2d(channels),
        ]
    return nn.Sequential(*layers)


def _max_pool_same(x: Tensor) -> Tensor:
    """3x3 / stride-2 max-pool with TensorFlow-style "same" zero padding (official ``utils.py``).

    Output size ``ceil(H/2)``, the size of a ResNet stage's stride-2 output.
    """
    pads = []
    for size in (x.shape[-1], x.shape[-2]):
        extra = max((math.ceil(size / 2) - 1) * 2 + 3 - size, 0)
        pads += [extra // 2, extra - extra // 2]
    return F.max_pool2d(F.pad(x, pads), kernel_size=3, stride=2)


def _fuse(weights: Tensor, inputs: Sequence[Tensor], eps: float = 1e-6) -> Tensor:
    """Fast normalised fusion ``sum_j relu(w_j) x_j / (sum_j relu(w_j) + eps)`` (EfficientDet)."""
    w = F.relu(weights)
    w = w / (w.sum() + eps)
    return sum(w_j * x_j for w_j, x_j in zip(w, inputs))


class BiFPNSelfTeacher(nn.Module):
    """FRSKD's self-teacher: one BiFPN layer over the classifier's stage features plus a head.

    For input levels ``i = 0..L-1`` with ``c_i`` channels (``C_i = w c_i`` inside):

    * lateral ``L_i = pw(c_i -> C_i)(relu F_i)`` for all levels and a second lateral
      ``L2_i`` for levels ``1..L-1``;
    * top-down ``P_{L-1} = L_{L-1}``,
      ``P_i = sep(fuse(relu L_i, pw(C_{i+1} -> C_i)(up(relu P_{i+1}))))``;
    * bottom-up ``Q_0 = P_0``,
      ``Q_i = sep(fuse(relu L2_i, relu P_i, pw(C_{i-1} -> C_i)(pool(relu Q_{i-1}))))``,
      without the ``P`` term at the top level;
    * outputs ``relu Q_i``; head: global average pool of the top output, ``Linear(C_{L-1}, N)``.

    ``up`` is nearest up-sampling to the finer level's size (the official x2 up-sampling when
    the sizes double; odd sizes work too), ``pool`` a "same" 3x3/2 max-pool, ``sep``
    :func:`_separable` of the given depth. With a small-input ResNet-18 (N = 200, w = 2, d = 2)
    it has the official BiFPNc's 6,478,294 parameters.
    """

    def __init__(self, in_channels: Sequence[int], num_classes: int, width: int = 2, depth: int = 2) -> None:
        super().__init__()
        if len(in_channels) < 2:
            raise ValueError(f"BiFPNSelfTeacher needs at least 2 feature levels, got {list(in_channels)}")
        if width < 1 or depth < 1:
            raise ValueError(f"width and depth must be >= 1, got width={width}, depth={depth}")
        c = list(in_channels)
        ch = [width * ci for ci in c]
        top = len(c) - 1
        self.lateral = nn.ModuleList(_pointwise(c[i], ch[i]) for i in range(len(c)))
        self.lateral2 = nn.ModuleList(_pointwise(c[i], ch[i]) for i in range(1, len(c)))
        self.up_proj = nn.ModuleList(_pointwise(ch[i + 1], ch[i]) for i in range(top))
        self.up_conv = nn.ModuleList(_separable(ch[i], depth) for i in range(top))
        self.up_weight = nn.ParameterList(nn.Parameter(torch.ones(2)) for _ in range(top))
        self.down_proj = nn.ModuleList(_pointwise(ch[i - 1], ch[i]) for i in range(1, len(c)))
        self.down_conv = nn.ModuleList(_separable(ch[i], depth) for i in range(1, len(c)))
        self.down_weight = nn.ParameterList(
            nn.Parameter(torch.ones(3 if i < top else 2)) for i in range(1, len(c))
        )
        self.fc = nn.Linear(ch[-1], num_classes)

    def forward(self, features: Sequence[Tensor]) -> tuple[list[Tensor], Tensor]:
        """Refined feature maps (one per level, same sizes) and the self-teacher's logits."""
        if len(features) != len(self.lateral):
            raise ValueError(f"expected {len(self.lateral)} feature maps, got {len(features)}")
        lat = [conv(F.relu(f)) for conv, f in zip(self.lateral, features)]
        lat2 = [conv(F.relu(f)) for conv, f in zip(self.lateral2, features[1:])]
        top = len(lat) - 1

        td = [lat[top]]  # top-down, built from the top level; td[0] is the finest so far
        for i in reversed(range(top)):
            up = F.interpolate(F.relu(td[0]), size=lat[i].shape[-2:], mode="nearest")
            td.insert(0, self.up_conv[i](_fuse(self.up_weight[i], [F.relu(lat[i]), self.up_proj[i](up)])))

        out = [td[0]]
        for i in range(1, top + 1):
            down = self.down_proj[i - 1](_max_pool_same(F.relu(out[-1])))
            inputs = [F.relu(lat2[i - 1])] + ([F.relu(td[i])] if i < top else []) + [down]
            out.append(self.down_conv[i - 1](_fuse(self.down_weight[i - 1], inputs)))

        out = [F.relu(o) for o in out]
        logits = self.fc(torch.flatten(F.adaptive_avg_pool2d(out[-1], 1), 1))
        return out, logits


def _stage_channels(model: nn.Module) -> list[int]:
    """Channel count of each stage feature of ``model`` (one eval-mode probe, no state change)."""
    first_conv = next(m for m in model.modules() if isinstance(m, nn.Conv2d))
    param = next(model.parameters())
    was_training = model.training
    model.eval()
    with torch.no_grad():
        feats, _ = stage_features(model, torch.zeros(1, first_conv.in_channels, 32, 32, device=param.device,
                                                     dtype=param.dtype))
    model.train(was_training)
    return [f.shape[1] for f in feats]


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
        teacher = BiFPNSelfTeacher(_stage_channels(model), num_classes, self.width, self.depth)
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
        super().__init__(alpha=alpha, beta=0.0, temperature=temperature, width=width, depth=depth)  # beta 0 by definition


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
