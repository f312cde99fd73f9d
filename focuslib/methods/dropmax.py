"""DropMax (Lee, Nam, Yang, Hwang, NeurIPS 2018): a softmax whose non-target classes are
randomly dropped with learned, input-dependent retain probabilities.

Re-derived from the paper and the official TF1 code (``haebeom-lee/dropmax`` @ d4b44de,
``layers.py``, ``lenet.py``, ``run.py``; LeNet on MNIST only):

* two extra N-way linear heads on the penultimate features ``h``: ``rho = sigmoid(ph)`` (the
  retain probability, the prior ``p(z|x)``) and ``r = sigmoid(rh)``; the variational retain
  probability is ``q = sigmoid(sg(ph) + rh)`` (``lenet.py``);
* a concrete (relaxed Bernoulli) mask ``z = sigmoid((logit q + logit u) / tau)``,
  ``u ~ U(0, 1)``, ``tau = 0.1``, with the target entry set to 1 (``genmask``);
* masked cross-entropy ``-log[(z_t + eps) e^{o_t} / sum_k (z_k + eps) e^{o_k}]``, ``eps = 1e-20``;
* regularisers, all with weight 1 (``run.py``): KL (``-log rho_t`` for the target, Bernoulli
  ``KL(q || rho)`` for the others), aux (``-log r_t - sum_{k != t} log(1 - r_k)``) and the
  negative entropy of ``rho``; each summed over classes and averaged over the batch;
* prediction ``argmax_k (rho_k + eps) e^{o_k}``: the mask replaced by its prior mean ``rho``.

Not attested, our choices: the heads sit on the pooled features of any model (the official
code has only LeNet; FocusNet's DropMax ResNet runs were never released, methods.md Sec. 2);
the heads use torch's default ``nn.Linear`` initialisation (TF's default is Glorot-uniform);
the trainer's optimiser and weight decay apply to the heads too (the official code uses Adam
and excludes the ``*_branch`` heads from weight decay). The KL, aux and entropy terms use the
exact log-sigmoid forms instead of ``log(x + 1e-20)``; the two agree to within 1e-20 in ``x``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models import classifier, penultimate
from . import register_method
from .base import Method, StepOutput

#: The official code's ``eps`` inside the masked softmax (``layers.py``).
EPS = 1e-20


def masked_logits(logits: Tensor, mask: Tensor) -> Tensor:
    """``log((mask + eps) e^o)``: logits whose softmax is the masked softmax of DropMax."""
    return logits + torch.log(mask + EPS)


def sample_mask(q_logits: Tensor, targets: Tensor, tau: float) -> Tensor:
    """A concrete relaxation of ``Bernoulli(q)`` at temperature ``tau``, with the target
    entry set to 1 (``genmask``). Differentiable with respect to ``q_logits`` (= logit q).

    Written out rather than ``torch.distributions.RelaxedBernoulli``, which clamps the mask
    to ``[1.2e-7, 1 - 1.2e-7]`` in float32, so a dropped class would not reach 0.
    """
    u = torch.rand_like(q_logits)
    mask = torch.sigmoid((q_logits + torch.logit(u)) / tau)
    return mask.masked_fill(F.one_hot(targets, q_logits.shape[1]).bool(), 1.0)


def dropmax_kl(rho_logits: Tensor, q_logits: Tensor, targets: Tensor) -> Tensor:
    """Per-sample KL term: ``-log rho_t + sum_{k != t} KL(Bernoulli(q_k) || Bernoulli(rho_k))``."""
    log_rho, log_not_rho = F.logsigmoid(rho_logits), F.logsigmoid(-rho_logits)
    log_q, log_not_q = F.logsigmoid(q_logits), F.logsigmoid(-q_logits)
    q = torch.sigmoid(q_logits)
    bernoulli_kl = q * (log_q - log_rho) + (1 - q) * (log_not_q - log_not_rho)
    target = F.one_hot(targets, rho_logits.shape[1]).bool()
    return torch.where(target, -log_rho, bernoulli_kl).sum(dim=1)


def dropmax_aux(r_logits: Tensor, targets: Tensor) -> Tensor:
    """Per-sample aux term: ``-log r_t - sum_{k != t} log(1 - r_k)`` (binary CE of r vs one-hot)."""
    one_hot = F.one_hot(targets, r_logits.shape[1]).to(r_logits.dtype)
    return F.binary_cross_entropy_with_logits(r_logits, one_hot, reduction="none").sum(dim=1)


def dropmax_neg_entropy(rho_logits: Tensor) -> Tensor:
    """Per-sample ``sum_k [rho_k log rho_k + (1 - rho_k) log(1 - rho_k)]`` (minus the entropy)."""
    rho = torch.sigmoid(rho_logits)
    return -F.binary_cross_entropy_with_logits(rho_logits, rho, reduction="none").sum(dim=1)


class DropMaxTerms(NamedTuple):
    """The four batch-mean terms of the DropMax objective (their sum is the loss)."""

    ce: Tensor
    kl: Tensor
    aux: Tensor
    neg_ent: Tensor


@register_method
class DropMax(Method):
    """DropMax on any model :func:`focuslib.models.penultimate` supports; ``tau`` is the
    temperature of the concrete mask (0.1 in the official code)."""

    name = "dropmax"

    def __init__(self, tau: float = 0.1) -> None:
        super().__init__()
        if not tau > 0:
            raise ValueError(f"DropMax temperature tau must be > 0, got {tau}")
        self.tau = float(tau)
        self.rho_head: nn.Linear | None = None
        self.r_head: nn.Linear | None = None

    def setup(self, model: nn.Module, num_classes: int) -> None:
        """Create the ``rho`` and ``r`` heads beside the model's classifier, on its device."""
        fc = classifier(model)
        if fc.out_features != num_classes:
            raise ValueError(f"the model's classifier has {fc.out_features} outputs, expected {num_classes}")
        kw = {"device": fc.weight.device, "dtype": fc.weight.dtype}
        self.rho_head = nn.Linear(fc.in_features, num_classes, **kw)
        self.r_head = nn.Linear(fc.in_features, num_classes, **kw)

    def _forward(self, model: nn.Module, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Class logits ``o``, ``ph`` = logit rho and ``rh`` = logit r, in float32."""
        if self.rho_head is None or self.r_head is None:
            raise RuntimeError("DropMax.setup(model, num_classes) must be called before training or prediction")
        h, o = penultimate(model, x)
        return o.float(), self.rho_head(h).float(), self.r_head(h).float()

    def terms(self, model: nn.Module, x: Tensor, y: Tensor) -> tuple[DropMaxTerms, Tensor]:
        """The DropMax terms for one batch (one mask sample) and the test-time logits."""
        o, ph, rh = self._forward(model, x)
        qh = ph.detach() + rh  # the official code stops rho's gradient inside q
        mask = sample_mask(qh, y, self.tau)
        terms = DropMaxTerms(
            ce=F.cross_entropy(masked_logits(o, mask), y),
            kl=dropmax_kl(ph, qh, y).mean(),
            aux=dropmax_aux(rh, y).mean(),
            neg_ent=dropmax_neg_entropy(ph).mean(),
        )
        return terms, masked_logits(o, torch.sigmoid(ph))

    def training_step(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        teacher_logits: Tensor | None = None,
        epoch: int = 0,
        num_epochs: int = 1,
    ) -> StepOutput:
        terms, test_logits = self.terms(model, x, y)
        loss = terms.ce + terms.kl + terms.aux + terms.neg_ent
        logged = {name: value.detach() for name, value in terms._asdict().items()}
        return StepOutput(loss=loss, logits=test_logits.detach(), targets=y, terms=logged)

    @torch.no_grad()
    def predict(self, model: nn.Module, x: Tensor) -> Tensor:
        """``log((rho + eps) e^o)``: its argmax is the official test-time prediction."""
        o, ph, _ = self._forward(model, x)
        return masked_logits(o, torch.sigmoid(ph))

