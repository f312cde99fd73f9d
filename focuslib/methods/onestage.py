"""One-stage FocusNet (our addition, not in the paper): the baseline branch of Eq. 4-12 comes from
the run itself instead of a separately pre-trained network, the future work the paper's conclusion
names ("an optimized one-stage scheme", paper L416).

Two sources of the baseline logits ``z_b``, each entering :func:`focuslib.losses.focus_picking_terms`
exactly where the frozen baseline's logits enter FocusNet's loss (:meth:`FocusNet.focus_output`):

* ``focusnet_ema``: an exponential moving average of the network's own weights (Mean Teacher,
  Tarvainen & Valpola, NeurIPS 2017);
* ``focusnet_prev``: the network's own logits on each training image from the previous epoch,
  cached per sample (as Progressive Self-Knowledge Distillation, Kim et al., ICCV 2021, uses its
  previous-epoch predictions).

Everything else is FocusNet's as the paper states it (Eq. 12 with alpha = beta = 1, Eq. 4's warm
rule, ``d`` detached: :class:`FocusNet`'s defaults), and prediction uses the model's own logits
(``d = 0``, paper Sec. 3.4). Every hyper-parameter below was fixed from the two papers' settings
before any MNIST test accuracy of these methods existed.
"""

from __future__ import annotations

import copy

import torch
import torch.distributed as dist
from torch import Tensor, nn

from . import register_method
from .base import StepOutput, cross_entropy_output
from .focusnet import FocusNet


@torch.no_grad()
def ema_update(average: nn.Module, model: nn.Module, decay: float) -> None:
    """Mean Teacher's update ``theta' <- decay * theta' + (1 - decay) * theta`` of every parameter of
    ``average`` towards ``model``'s; ``average``'s buffers (BatchNorm running statistics and counts)
    become copies of ``model``'s."""
    for mean, param in zip(average.parameters(), model.parameters(), strict=True):
        mean.mul_(decay).add_(param.detach(), alpha=1.0 - decay)
    for mine, theirs in zip(average.buffers(), model.buffers(), strict=True):
        mine.copy_(theirs)


@register_method
class FocusNetEMA(FocusNet):
    """FocusNet whose baseline branch is an exponential moving average (EMA) of the network itself.

    ``setup`` copies the initialised network into ``self.ema`` (a sub-module, so the method's
    ``state_dict`` and hence every checkpoint carries it; its parameters have ``requires_grad``
    off and the trainer optimises only parameters that require grad). After every optimiser step
    the trainer calls :meth:`after_step`, which moves the EMA towards the network with
    ``rampup_decay`` during the first ``warmup_epochs`` epochs and ``decay`` after them. During the
    warm-up the loss is plain cross-entropy (Eq. 3), so the EMA starts the focus-picking loss
    as an average of a trained network; afterwards the loss is Eq. 12 with ``z_b`` the EMA's
    logits on the same augmented batch, computed without grad, as FocusNet's frozen baseline.

    BatchNorm: the EMA branch always runs in eval mode, as FocusNet's frozen baseline does (Sec.
    3.2.2), so it uses running statistics. Its running statistics are *copied* from the network
    after every step, not averaged: they are already a moving average (BatchNorm's momentum) of
    the network's batch statistics, and averaging them a second time would lag further behind the
    weights. (LeNet-5 has no BatchNorm; the rule matters for the ResNets.)

    Hyper-parameters (Mean Teacher's settings, fixed before any MNIST result): ``rampup_decay =
    0.99`` during the ramp-up and ``decay = 0.999`` after it, the two EMA decays of Mean Teacher's
    ConvNet experiments (its ``ema_decay_during_rampup``/``ema_decay_after_rampup``,
    CuriousAI/mean-teacher ``tensorflow/mean_teacher/model.py``): the student improves quickly early
    in training, so the average should forget its first weights fast. ``warmup_epochs = 5``: the
    consistency ramp-up of Mean Teacher's published ResNet runs with all training images
    (``consistency_rampup: 5`` in ``pytorch/experiments/cifar10_test.py`` and ``imagenet_valid.py``);
    its ConvNet runs ramp up over 40000 of 150000 steps, a semi-supervised setting with few labels.
    Mean Teacher ramps its consistency weight up smoothly; here the warm-up is plain cross-entropy
    (the focus-picking loss has no weight to ramp: its reference branch is the thing to wait for).
    The EMA update has no start-up correction (the teacher starts as a copy of the initialised
    student, as in Mean Teacher).
    """

    name = "focusnet_ema"
    needs_teacher = False

    def __init__(self, decay: float = 0.999, rampup_decay: float = 0.99, warmup_epochs: int = 5) -> None:
        super().__init__()
        for label, value in (("decay", decay), ("rampup_decay", rampup_decay)):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"focusnet_ema {label} must be in [0, 1), got {value}")
        if int(warmup_epochs) != warmup_epochs or warmup_epochs < 0:
            raise ValueError(f"focusnet_ema warmup_epochs must be a non-negative integer, got {warmup_epochs}")
        self.decay, self.rampup_decay, self.warmup_epochs = float(decay), float(rampup_decay), int(warmup_epochs)
        self._epoch = 0  # the epoch of the last training step (after_step's decay)

    def setup(self, model: nn.Module, num_classes: int) -> None:
        self.ema = copy.deepcopy(model).requires_grad_(False).eval()

    def train(self, mode: bool = True) -> FocusNetEMA:
        """Switch the method's modules, but keep the EMA branch in eval mode (see the class doc)."""
        super().train(mode)
        if "ema" in self._modules:
            self.ema.eval()
        return self

    def decay_at(self, epoch: int) -> float:
        """The EMA decay after a step of ``epoch`` (0-based): ``rampup_decay`` during the warm-up."""
        return self.rampup_decay if epoch < self.warmup_epochs else self.decay

    def training_step(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        teacher_logits: Tensor | None = None,
        epoch: int = 0,
        num_epochs: int = 1,
    ) -> StepOutput:
        self._epoch = epoch
        logits = model(x)
        if epoch < self.warmup_epochs:
            return cross_entropy_output(logits, y)
        with torch.no_grad():
            baseline_logits = self.ema(x)
        return self.focus_output(logits, baseline_logits, y)

    def after_step(self, model: nn.Module) -> None:
        ema_update(self.ema, model, self.decay_at(self._epoch))


@register_method
class FocusNetPrev(FocusNet):
    """FocusNet whose baseline logits for each training image are the network's own logits on that
    image in the previous epoch.

    The cache is two method buffers, so checkpoints carry it and a resumed run continues exactly:
    ``prev_logits`` (num_train x num_classes, float32) and ``prev_epoch`` (num_train, the epoch each
    row was written; -1 never). The trainer passes the batch's training-set indices ``idx``
    (``needs_sample_index``); the buffers take the size of the training set as its indices are
    first seen (all of them in epoch 0, whose loss is plain cross-entropy: there is no previous
    epoch yet). From epoch 1 on, every sample's cached row must come from the epoch before, else
    the step raises. A row holds the logits of the training forward pass (train mode, before that
    step's update), as PS-KD stores the predictions it makes while training.

    With random augmentation (CIFAR, ImageNet) the cached logits are for the previous epoch's
    augmented view of the image, not for this epoch's view; on MNIST (no augmentation) they are
    for the same image. Single process only: under DDP a sample's previous-epoch logits may live
    on another rank, so the step refuses to run there.

    No hyper-parameter of its own (chosen before any MNIST result): PS-KD's targets are the
    previous epoch's predictions, which is the choice made here. PS-KD's other setting, the
    weight ``alpha_T = 0.8`` ramped linearly over training that mixes those predictions into the
    one-hot target (Kim et al. 2021; ``--alpha_T 0.8`` in lgcnsai/PS-KD-Pytorch's README), has no
    counterpart: the logits enter Eq. 4-12 as FocusNet's baseline branch, not as a target to mix.
    """

    name = "focusnet_prev"
    needs_teacher = False
    needs_sample_index = True

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("prev_logits", torch.zeros(0, 0))
        self.register_buffer("prev_epoch", torch.zeros(0, dtype=torch.long))

    def setup(self, model: nn.Module, num_classes: int) -> None:
        self.prev_logits = torch.zeros(0, num_classes)

    def training_step(
        self,
        model: nn.Module,
        x: Tensor,
        y: Tensor,
        teacher_logits: Tensor | None = None,
        epoch: int = 0,
        num_epochs: int = 1,
        idx: Tensor | None = None,
    ) -> StepOutput:
        if idx is None:
            raise ValueError("focusnet_prev needs idx, the batch's training-set indices (the trainer passes them)")
        if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
            raise RuntimeError("focusnet_prev caches logits per sample on one process; it does not run under DDP")
        rows = idx.to(self.prev_epoch.device).long()
        self._cover(int(rows.max()) + 1)
        logits = model(x)
        if epoch == 0:
            out = cross_entropy_output(logits, y)
        else:
            stale = self.prev_epoch[rows] != epoch - 1
            if stale.any():
                raise RuntimeError(f"focusnet_prev: {int(stale.sum())} sample(s) of this batch have no logits from "
                                   f"epoch {epoch} (1-based) in the cache")
            out = self.focus_output(logits, self.prev_logits[rows].to(logits.device), y)
        self.prev_logits[rows] = logits.detach().float().to(self.prev_logits.device)
        self.prev_epoch[rows] = epoch
        return out

    def _cover(self, n: int) -> None:
        """Grow the cache to ``n`` rows; new rows are unwritten (epoch -1)."""
        have = self.prev_logits.shape[0]
        if n <= have:
            return
        logits = self.prev_logits.new_zeros(n, self.prev_logits.shape[1])
        epochs = self.prev_epoch.new_full((n,), -1)
        logits[:have], epochs[:have] = self.prev_logits, self.prev_epoch
        self.prev_logits, self.prev_epoch = logits, epochs

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs) -> None:
        """Take the stored cache's size (a fresh method's cache is empty) before loading it."""
        for name in ("prev_logits", "prev_epoch"):
            stored = state_dict.get(prefix + name)
            if stored is not None:
                setattr(self, name, torch.empty_like(stored, device=getattr(self, name).device))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
