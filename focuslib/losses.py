"""Loss functions: FocusNet's focus-picking loss (paper Sec. 3.3-3.5, Eqs. 4-14) and the
temperature-scaled KL of Hinton et al. (2015) that the distillation methods share.

Every function computes in float32 (float64 stays float64) with autocast disabled, so
bf16/fp16 logits from an autocast forward pass are cast up. All logs are ``log_softmax``
(never the log of a softmax). Logits have shape ``(B, N)``, targets are integer class
indices of shape ``(B,)``. ``reduction`` is ``"mean"`` (over the batch), ``"sum"`` or
``"none"`` (one value per sample); a per-sample value is always the sum over classes.
Reference logits (baseline, teacher) are always detached: they are a fixed reference,
never trained through these losses.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Literal, NamedTuple

import pandas as pd
import torch
import torch.nn.functional as F
from torch import Tensor

Reduction = Literal["mean", "sum", "none"]
WarmRule = Literal["paper", "official"]
REDUCTIONS: tuple[str, ...] = ("mean", "sum", "none")
WARM_RULES: tuple[str, ...] = ("paper", "official")


# -- input checks and helpers --------------------------------------------------------------
def _check_logits(logits: Tensor, targets: Tensor, *others: Tensor) -> Tensor:
    """Check shapes and dtypes; return the targets as int64 (what torch's losses expect)."""
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (batch, classes), got {tuple(logits.shape)}")
    if targets.shape != logits.shape[:1] or targets.dtype.is_floating_point or targets.dtype == torch.bool:
        raise ValueError(
            f"targets must be integer class indices of shape ({logits.shape[0]},), "
            f"got dtype {targets.dtype} and shape {tuple(targets.shape)}"
        )
    for other in others:
        if other.shape != logits.shape:
            raise ValueError(
                f"reference logits must have the shape of the logits {tuple(logits.shape)}, "
                f"got {tuple(other.shape)}"
            )
    return targets.long()


def wide(x: Tensor) -> Tensor:
    """``x`` in float32, or float64 if it already is (half precision is cast up)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _reduce(values: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return values.mean()
    if reduction == "sum":
        return values.sum()
    if reduction == "none":
        return values
    raise ValueError(f"unknown reduction {reduction!r}; use one of {REDUCTIONS}")


@contextmanager
def _float32(device: torch.device) -> Iterator[None]:
    """Autocast off, so that every op below runs in the precision its inputs were cast to."""
    with torch.autocast(device_type=device.type, enabled=False):
        yield


def validate_focus_options(
    alpha: float = 1.0,
    beta: float = 1.0,
    warm_rule: str = "paper",
    warm_temperature: float = 2.0,
    label_smoothing: float = 0.0,
    reduction: str = "mean",
) -> None:
    """Raise ``ValueError`` for an out-of-range focus-picking option (methods call this at
    construction time, so a bad hyper-parameter fails before training starts)."""
    if alpha < 0 or beta < 0:
        raise ValueError(f"alpha and beta weight Eq. 12's regularisers and must be >= 0, got {alpha}, {beta}")
    if warm_rule not in WARM_RULES:
        raise ValueError(
            f"unknown warm_rule {warm_rule!r}; use 'paper' (Eq. 4: z_b > 0) or 'official' (softmax(z_b/T) > 1/N)"
        )
    if not warm_temperature > 0:
        raise ValueError(f"warm_temperature must be > 0, got {warm_temperature}")
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}; use one of {REDUCTIONS}")


# -- FocusNet: multi-warm label (Eqs. 4-6) ------------------------------------------------
def multi_warm_label(
    baseline_logits: Tensor,
    targets: Tensor,
    *,
    rule: WarmRule = "paper",
    temperature: float = 2.0,
) -> Tensor:
    """The multi-warm label ``l`` (Eqs. 4-6), float32 (or float64) of shape ``(B, N)``,
    rows summing to 1.

    ``rule="paper"`` marks the classes whose baseline logit is positive (Eq. 4);
    ``rule="official"`` marks those with ``softmax(z_b / temperature) > 1/N`` (the official
    code's sparser rule, ``fpLoss.py`` L44 @ 267f0c7, temperature 2). The ground-truth class
    is added and clipped at 1 (Eq. 5), then each row is normalised (Eq. 6).
    """
    targets = _check_logits(baseline_logits, targets)
    validate_focus_options(warm_rule=rule, warm_temperature=temperature)
    with _float32(baseline_logits.device):
        label = warm_mask(wide(baseline_logits.detach()), targets, rule, temperature).to(
            torch.promote_types(baseline_logits.dtype, torch.float32))
        return label / label.sum(dim=1, keepdim=True)  # Eq. 6


def warm_mask(baseline_logits: Tensor, targets: Tensor, rule: WarmRule = "paper", temperature: float = 2.0) -> Tensor:
    """The boolean mask ``l''`` of Eqs. 4-5 (confusing classes plus the ground truth), unchecked."""
    if rule == "paper":
        warm = baseline_logits > 0  # Eq. 4
    else:
        warm = torch.softmax(baseline_logits / temperature, dim=1) > 1.0 / baseline_logits.shape[1]
    return warm.scatter(1, targets.long()[:, None], True)  # Eq. 5: min(1, l' + y)


# -- FocusNet: the three terms (Eqs. 7-12) -------------------------------------------------
def reweighted_cross_entropy(
    logits: Tensor,
    d: Tensor,
    targets: Tensor,
    *,
    label_smoothing: float = 0.0,
    reduction: Reduction = "mean",
) -> Tensor:
    """``L_cls`` (Eq. 9): cross-entropy of the re-weighted softmax ``softmax(z + d)`` (Eq. 7).

    ``d = 0`` gives plain cross-entropy. ``label_smoothing`` (the official code's 0.1) mixes
    the one-hot target with the uniform one, as ``torch.nn.functional.cross_entropy`` does.
    """
    targets = _check_logits(logits, targets, d)
    validate_focus_options(label_smoothing=label_smoothing, reduction=reduction)
    with _float32(logits.device):
        per_sample = F.cross_entropy(
            wide(logits) + wide(d), targets, label_smoothing=label_smoothing, reduction="none"
        )
    return _reduce(per_sample, reduction)


class FocusTerms(NamedTuple):
    """The focus-picking loss's terms, each reduced as asked: ``L_cls`` (Eq. 9),
    ``R_attention`` (Eq. 10) and ``R_entropy`` (Eq. 11)."""

    l_cls: Tensor
    r_att: Tensor
    r_ent: Tensor

    def total(self, alpha: float = 1.0, beta: float = 1.0, *, use_att: bool = True, use_ent: bool = True) -> Tensor:
        """Eq. 12, ``L_cls + alpha R_att - beta R_ent``, with Table 10's ablation switches:
        ``use_att``/``use_ent`` drop a regulariser (rows {L_cls}, {L_cls, R_ent},
        {L_cls, R_att} and the full loss; the {CE} row is the ``ce`` method)."""
        loss = self.l_cls
        if use_att:
            loss = loss + alpha * self.r_att
        if use_ent:
            loss = loss - beta * self.r_ent
        return loss


def focus_picking_terms(
    logits: Tensor,
    baseline_logits: Tensor,
    targets: Tensor,
    reduction: Reduction = "mean",
    *,
    detach_d: bool = True,
    warm_rule: WarmRule = "paper",
    warm_temperature: float = 2.0,
    label_smoothing: float = 0.0,
) -> FocusTerms:
    """The three terms of the focus-picking loss for FocusNet logits ``z`` and reference
    (baseline) logits ``z_b``; the reference is detached (a frozen baseline, or a detached
    self-teacher as in OurLoss+FRSKD).

    ``d = softmax(z) - softmax(z_b)`` (Eq. 8). ``detach_d=True`` (default) stops the
    gradient through ``d``: Sec. 3.5 (Eq. 13, Fig. 3) analyses ``L_cls`` as a function of
    ``d_t`` with the logits fixed, i.e. ``d`` is a per-sample re-weighting read off the
    reference (``exp(d_j - d_t)`` scales each competing class), and the gradient is then
    ``softmax(z + d) - y``, CE's gradient with that offset, larger for difficult samples
    (``d_t < 0``). With ``detach_d=False`` (the official code, ``fpLoss.py`` L23) an extra
    gradient ``J_softmax(z)^T (softmax(z + d) - y)`` flows through ``d``, which the paper
    neither states nor analyses. Values are identical either way.
    """
    targets = _check_logits(logits, targets, baseline_logits)
    validate_focus_options(
        warm_rule=warm_rule, warm_temperature=warm_temperature, label_smoothing=label_smoothing, reduction=reduction
    )
    with _float32(logits.device):
        z = wide(logits)
        z_b = wide(baseline_logits.detach())
        log_p = torch.log_softmax(z, dim=1)  # log softmax(z), shared by Eqs. 8, 10 and 11
        p = log_p.exp()
        d = p - torch.softmax(z_b, dim=1)  # Eq. 8
        if detach_d:
            d = d.detach()
        l_cls = reweighted_cross_entropy(z, d, targets, label_smoothing=label_smoothing, reduction="none")  # Eq. 9
        warm = warm_mask(z_b, targets, warm_rule, warm_temperature).to(z.dtype)
        r_att = -(warm * log_p).sum(dim=1) / warm.sum(dim=1)  # Eq. 10 with l = l'' / sum l'' (Eq. 6)
        r_ent = -(p * log_p).sum(dim=1)  # Eq. 11
    return FocusTerms(*(_reduce(term, reduction) for term in (l_cls, r_att, r_ent)))


def focus_picking_loss(
    logits: Tensor,
    baseline_logits: Tensor,
    targets: Tensor,
    alpha: float = 1.0,
    beta: float = 1.0,
    reduction: Reduction = "mean",
    *,
    use_att: bool = True,
    use_ent: bool = True,
    detach_d: bool = True,
    warm_rule: WarmRule = "paper",
    warm_temperature: float = 2.0,
    label_smoothing: float = 0.0,
) -> Tensor:
    """The focus-picking loss (Eq. 12): ``L_cls + alpha R_attention - beta R_entropy``.

    Paper defaults: ``alpha = beta = 1``, warm rule ``z_b > 0``, no label smoothing. The
    official code's choices are options: ``warm_rule="official"``, ``label_smoothing=0.1``,
    ``detach_d=False``. See :func:`focus_picking_terms` for ``detach_d`` and
    :meth:`FocusTerms.total` for the ablation switches.
    """
    validate_focus_options(alpha=alpha, beta=beta)
    terms = focus_picking_terms(
        logits,
        baseline_logits,
        targets,
        reduction,
        detach_d=detach_d,
        warm_rule=warm_rule,
        warm_temperature=warm_temperature,
        label_smoothing=label_smoothing,
    )
    return terms.total(alpha, beta, use_att=use_att, use_ent=use_ent)


def lcls_curve(
    margins: Sequence[float] = (-2.0, 0.0, 2.0),
    num_classes: int = 10,
    points: int = 201,
) -> pd.DataFrame:
    """``L_cls`` as a function of ``d_t`` over ``[-1, 1]`` (Eq. 13, the paper's Fig. 3).

    Each setting fixes the logits ``z = (m, 0, ..., 0)`` with target class 0, i.e. the target
    logit leads every other class by the margin ``m``. The other classes share ``-d_t``
    equally, so ``d`` sums to 0 as Eq. 8 implies. Columns: ``margin``, ``setting``, ``d_t``,
    ``l_cls``, and ``ce`` (the plain cross-entropy ``log(e^m + N - 1) - m``, the ``d = 0`` value).
    """
    if num_classes < 2 or points < 2:
        raise ValueError(f"need num_classes >= 2 and points >= 2, got {num_classes} and {points}")
    d_t = torch.linspace(-1.0, 1.0, points, dtype=torch.float64)
    d = (-d_t / (num_classes - 1)).unsqueeze(1).repeat(1, num_classes)
    d[:, 0] = d_t
    targets = torch.zeros(points, dtype=torch.long)
    frames = []
    for m in margins:
        z = torch.zeros(points, num_classes, dtype=torch.float64)
        z[:, 0] = m
        l_cls = reweighted_cross_entropy(z, d, targets, reduction="none")
        frames.append(
            pd.DataFrame(
                {
                    "margin": float(m),
                    "setting": f"z_t - z_j = {m:+g}",
                    "d_t": d_t.numpy(),
                    "l_cls": l_cls.numpy(),
                    "ce": math.log(math.exp(m) + num_classes - 1) - m,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# -- knowledge distillation (Hinton et al. 2015) -------------------------------------------
def distillation_kl(
    student_logits: Tensor,
    teacher_logits: Tensor,
    temperature: float,
    reduction: Reduction = "mean",
) -> Tensor:
    """``T^2 KL(softmax(t/T) || softmax(s/T))`` with the teacher detached (Hinton et al. 2015).

    ``reduction="mean"`` is torch's ``"batchmean"`` (sum over classes, mean over the batch),
    written out explicitly: the Tf-KD repo's elementwise mean is ``1/N`` of it.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if student_logits.ndim != 2 or teacher_logits.shape != student_logits.shape:
        raise ValueError(
            f"student and teacher logits must both have shape (batch, classes), got "
            f"{tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}"
        )
    with _float32(student_logits.device):
        log_p_s = torch.log_softmax(wide(student_logits) / temperature, dim=1)
        log_p_t = torch.log_softmax(wide(teacher_logits.detach()) / temperature, dim=1)
        per_sample = F.kl_div(log_p_s, log_p_t, log_target=True, reduction="none").sum(dim=1)
    return _reduce(per_sample * temperature**2, reduction)
