"""FocusNet: train with the focus-picking loss against a frozen baseline (paper Sec. 3)."""

from __future__ import annotations

from torch import Tensor, nn

from ..losses import WarmRule, focus_picking_terms, validate_focus_options, warm_mask
from . import register_method
from .base import Method, StepOutput


@register_method
class FocusNet(Method):
    """The FocusNet branch trained with Eq. 12 against the frozen baseline's logits.

    The trainer supplies ``teacher_logits``: the pre-trained baseline, in eval mode and
    without grad, on the same augmented batch (paper Sec. 3.2.2; the official code does the
    same). Prediction uses the plain logits, i.e. ``d = 0`` (paper Sec. 3.4). Hyper-parameters
    are those of :func:`focuslib.losses.focus_picking_loss`; ``use_att``/``use_ent`` are
    Table 10's ablation switches. Logged terms: ``l_cls``, ``r_att``, ``r_ent`` and
    ``warm_classes`` (mean number of non-zero multi-warm label entries).
    """

    name = "focusnet"
    needs_teacher = True

    def __init__(
        self,
        alpha: float = 1.0,
        beta: float = 1.0,
        detach_d: bool = True,
        warm_rule: WarmRule = "paper",
        warm_temperature: float = 2.0,
        label_smoothing: float = 0.0,
        use_att: bool = True,
        use_ent: bool = True,
    ) -> None:
        super().__init__()
        validate_focus_options(alpha, beta, warm_rule, warm_temperature, label_smoothing)
        self.alpha, self.beta = float(alpha), float(beta)
        self.detach_d = bool(detach_d)
        self.warm_rule: WarmRule = warm_rule
        self.warm_temperature = float(warm_temperature)
        self.label_smoothing = float(label_smoothing)
        self.use_att, self.use_ent = bool(use_att), bool(use_ent)

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
            raise ValueError("focusnet needs teacher_logits from the frozen baseline (set RunConfig.teacher)")
        return self.focus_output(model(x), teacher_logits, y)

    def focus_output(self, logits: Tensor, baseline_logits: Tensor, y: Tensor) -> StepOutput:
        """Eq. 12's loss of ``logits`` against the baseline branch's ``baseline_logits`` (a
        fixed reference, detached), with the logged terms."""
        terms = focus_picking_terms(
            logits,
            baseline_logits,
            y,
            detach_d=self.detach_d,
            warm_rule=self.warm_rule,
            warm_temperature=self.warm_temperature,
            label_smoothing=self.label_smoothing,
        )
        loss = terms.total(self.alpha, self.beta, use_att=self.use_att, use_ent=self.use_ent)
        logged = {name: value.detach() for name, value in terms._asdict().items()}
        warm = warm_mask(baseline_logits.detach().float(), y, self.warm_rule, self.warm_temperature)
        logged["warm_classes"] = warm.sum(dim=1).float().mean()
        return StepOutput(loss=loss, logits=logits.detach(), targets=y, terms=logged)

