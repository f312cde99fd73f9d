"""DDGSD, Data-Distortion Guided Self-Distillation: Xu & Liu, *Data-Distortion Guided
Self-Distillation for Deep Neural Networks*, AAAI 2019 (33(01): 5565-5572,
doi:10.1609/aaai.v33i01.33015565).

**No official code exists**, and the exact loss could not be read from the paper (methods.md
Sec. 6). What is attested: one network sees two independently distorted views of every image
and learns "consistent global feature distributions and posterior distributions (class
probabilities)" across them (abstract); the feature term is an MMD on the global feature
before the FC layer (the paper's Fig. 2 as read in ``youngerous/ddgsd-pytorch`` issue #1).
This module implements the reasonable reading

    L = CE(z_a) + CE(z_b) + lam T^2 [KL(sg p_b^T || p_a^T) + KL(sg p_a^T || p_b^T)] + mu MMD^2(f_a, f_b)

(KL batch-mean; each view is the other's detached target, as in Hinton-style distillation),
with a linear-kernel MMD by default, ``MMD^2 = ||mean_i f_a^i - mean_i f_b^i||^2``, and a
Gaussian-kernel option. Defaults lam 1, mu 5e-4, T 3 are those of the unofficial port
``youngerous/ddgsd-pytorch @ d07d90c`` (``scripts/run_ddgsd.sh``; its README says they follow
the paper). That port itself differs (no detach, no ``T^2``, element-wise mean KL, MSE between
logits instead of MMD), as does ``winycg/Self-KD-Lib @ ede3062`` (CE averaged over the views,
T 4, squared difference of the scalar feature means); both are documented, neither copied.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..losses import distillation_kl
from ..models import penultimate
from . import register_method
from .base import Method, StepOutput

MMD_KERNELS: tuple[str, ...] = ("linear", "gaussian")


def mmd2(f_a: Tensor, f_b: Tensor, kernel: str = "linear", sigma: float | None = None) -> Tensor:
    """Squared maximum mean discrepancy between two feature batches ``(B, D)`` (biased estimate).

    ``linear``: ``||mean f_a - mean f_b||^2``. ``gaussian``: ``mean k(a, a') + mean k(b, b') -
    2 mean k(a, b)`` with ``k(u, v) = exp(-||u - v||^2 / (2 sigma^2))``; ``sigma=None`` uses the
    median heuristic (median pairwise distance of the pooled batch, detached).
    """
    if kernel not in MMD_KERNELS:
        raise ValueError(f"unknown MMD kernel {kernel!r}; use one of {MMD_KERNELS}")
    if f_a.ndim != 2 or f_a.shape != f_b.shape:
        raise ValueError(f"features must both have shape (batch, dim), got {tuple(f_a.shape)} and {tuple(f_b.shape)}")
    if kernel == "linear":
        return (f_a.mean(dim=0) - f_b.mean(dim=0)).pow(2).sum()
    if sigma is not None and not sigma > 0:
        raise ValueError(f"sigma must be > 0 (or None for the median heuristic), got {sigma}")
    pooled = torch.cat([f_a, f_b])
    sq_dist = torch.cdist(pooled, pooled).pow(2)
    if sigma is None:
        off_diagonal = sq_dist.detach()[~torch.eye(len(pooled), dtype=torch.bool, device=pooled.device)]
        two_sigma2 = 2.0 * off_diagonal.sqrt().median().clamp_min(1e-12).pow(2)
    else:
        two_sigma2 = 2.0 * sigma**2
    k = torch.exp(-sq_dist / two_sigma2)
    n = len(f_a)
    return k[:n, :n].mean() + k[n:, n:].mean() - 2.0 * k[:n, n:].mean()


def ddgsd_loss(
    logits_a: Tensor,
    logits_b: Tensor,
    features_a: Tensor,
    features_b: Tensor,
    targets: Tensor,
    lam: float = 1.0,
    mu: float = 5e-4,
    temperature: float = 3.0,
    kernel: str = "linear",
    sigma: float | None = None,
) -> tuple[Tensor, dict[str, Tensor]]:
    """DDGSD's loss for two views a, b of the same images (see the module docstring).

    Returns the loss and detached terms ``ce`` (sum over both views), ``kl`` (the symmetric
    ``T^2`` KL, before ``lam``) and ``mmd`` (``MMD^2``, before ``mu``).
    """
    ce = F.cross_entropy(logits_a, targets) + F.cross_entropy(logits_b, targets)
    kl = distillation_kl(logits_a, logits_b, temperature) + distillation_kl(logits_b, logits_a, temperature)
    mmd = mmd2(features_a, features_b, kernel, sigma)
    loss = ce + lam * kl + mu * mmd
    return loss, {"ce": ce.detach(), "kl": kl.detach(), "mmd": mmd.detach()}


@register_method
class DDGSD(Method):
    """DDGSD: two independently augmented views per image (``num_views = 2``), two forward
    passes (as both ports do, so batch-norm statistics are per view); inference is the plain
    network (Table 6: 11.27 M)."""

    name = "ddgsd"
    num_views = 2

    def __init__(
        self,
        lam: float = 1.0,
        mu: float = 5e-4,
        temperature: float = 3.0,
        kernel: str = "linear",
        sigma: float | None = None,
    ) -> None:
        super().__init__()
        if lam < 0 or mu < 0:
            raise ValueError(f"lam and mu weight the KL and MMD terms and must be >= 0, got {lam}, {mu}")
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if kernel not in MMD_KERNELS:
            raise ValueError(f"unknown MMD kernel {kernel!r}; use one of {MMD_KERNELS}")
        if sigma is not None and not sigma > 0:
            raise ValueError(f"sigma must be > 0 (or None for the median heuristic), got {sigma}")
        self.lam, self.mu, self.temperature, self.kernel, self.sigma = lam, mu, temperature, kernel, sigma

    def training_step(
        self,
        model: nn.Module,
        x: Tensor | tuple[Tensor, ...],
        y: Tensor,
        teacher_logits: Tensor | None = None,
        epoch: int = 0,
        num_epochs: int = 1,
    ) -> StepOutput:
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise ValueError("ddgsd needs x = (view_a, view_b), two augmented views of the same images (num_views = 2)")
        (f_a, z_a), (f_b, z_b) = penultimate(model, x[0]), penultimate(model, x[1])
        loss, terms = ddgsd_loss(z_a, z_b, f_a, f_b, y, **self.hparams())
        return StepOutput(loss, torch.cat([z_a, z_b]), torch.cat([y, y]), terms)

