"""The contract every training method fulfils (torchdistill-style: a method is
configuration plus a small loss object, never a fork of the training loop)."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..losses import wide


@dataclass
class StepOutput:
    """What a method returns for one training batch.

    ``loss`` is the scalar to back-propagate; ``logits``/``targets`` are the deployed
    classifier's logits for the labelled images of the batch (for running train accuracy);
    ``terms`` holds detached scalar loss terms for logging (e.g. ``l_cls``, ``r_att``).
    """

    loss: Tensor
    logits: Tensor
    targets: Tensor
    terms: dict[str, Tensor] = field(default_factory=dict)


def cross_entropy_output(logits: Tensor, y: Tensor) -> StepOutput:
    """The step output of plain cross-entropy (paper Eq. 3) on ``logits``, logged as ``ce`` (the
    ``ce`` baseline's step, and the warm-up step of the one-stage FocusNet variants)."""
    loss = F.cross_entropy(wide(logits), y)  # bf16 up to float32; float64 stays
    return StepOutput(loss=loss, logits=logits.detach(), targets=y, terms={"ce": loss.detach()})


class Method(nn.Module):
    """Base class of a training method.

    A method may own extra trainable modules (heads, a self-teacher); it builds them in
    :meth:`setup` as sub-modules of itself, so the trainer optimises and checkpoints
    ``model.parameters()`` and ``method.parameters()`` together.

    Class attributes tell the trainer what a batch must look like:

    * ``needs_teacher``: the trainer supplies ``teacher_logits`` from a frozen, eval-mode,
      pre-trained network run without grad on the *same* augmented batch (FocusNet, KD).
    * ``num_views``: independently augmented views of each image (DDGSD: 2). With more
      than one view, ``x`` is a tuple of ``num_views`` tensors of shape ``(B, C, H, W)``.
    * ``paired_sampling``: the batch holds ``B`` samples followed by ``B`` partners of the
      same classes (CS-KD), so ``x`` has ``2B`` rows and ``y[B:] == y[:B]``.
    * ``needs_sample_index``: the trainer also passes ``idx``, the training-set indices of the
      batch's rows (shape ``(B,)``), to :meth:`training_step` (per-sample state across epochs).
    * ``uses_run_length``: a step depends on ``num_epochs`` (a ramp-up scaled to the run's
      length), so the first epochs of a longer run differ from a shorter run's and the trainer
      must not continue one from the other (:meth:`~focuslib.store.ResultsStore.prefix`).
    """

    name: ClassVar[str] = ""
    needs_teacher: ClassVar[bool] = False
    num_views: ClassVar[int] = 1
    paired_sampling: ClassVar[bool] = False
    needs_sample_index: ClassVar[bool] = False
    uses_run_length: bool = False

    def setup(self, model: nn.Module, num_classes: int) -> None:
        """Build the method's extra modules for ``model`` (default: none)."""

    def training_step(
        self,
        model: nn.Module,
        x: Tensor | tuple[Tensor, ...],
        y: Tensor,
        teacher_logits: Tensor | None = None,
        epoch: int = 0,
        num_epochs: int = 1,
    ) -> StepOutput:
        """Loss and logits for one batch; ``epoch`` is 0-based (for ramp-ups)."""
        raise NotImplementedError

    def after_step(self, model: nn.Module) -> None:
        """Called by the trainer right after each ``optimizer.step()`` with the updated model
        (e.g. to move a weight average towards it); default: nothing."""

    @torch.no_grad()
    def predict(self, model: nn.Module, x: Tensor) -> Tensor:
        """Test-time logits (default: the plain model)."""
        return model(x)

    def hparams(self) -> dict[str, Any]:
        """The method's hyper-parameters as built: each parameter of its constructor (their one
        declaration, :func:`declared_hparams`) read back from the attribute of the same name, so
        ``create_method(name, **m.hparams())`` rebuilds ``m``. A method that stores one under
        another name overrides this."""
        return {name: getattr(self, name) for name in declared_hparams(type(self))}


def declared_hparams(cls: type[Method]) -> dict[str, inspect.Parameter]:
    """The hyper-parameters a method declares: the named parameters of its constructor."""
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]  # without self
    return {p.name: p for p in params if p.kind in kinds}
