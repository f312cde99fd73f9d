"""Checks of the core methods (ce, focusnet, dropmax, kd, dereverse_kd): shapes, which
parameters learn, and loss values worked out by hand (arithmetic in comments)."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from focuslib.methods import StepOutput, create_method, list_methods
from focuslib.methods.dropmax import (
    DropMax,
    dropmax_aux,
    dropmax_kl,
    dropmax_neg_entropy,
    masked_logits,
    sample_mask,
)
from focuslib.methods.kd import DeReverseKD, KnowledgeDistillation
from focuslib.models import create_model

LN2, LN3 = math.log(2), math.log(3)
CORE = ("ce", "focusnet", "dropmax", "kd", "dereverse_kd")
N = 3


class FixedLogits(nn.Module):
    """A 'model' whose logits are a trainable tensor, whatever the input (for hand values)."""

    def __init__(self, logits: list[list[float]]) -> None:
        super().__init__()
        self.logits = nn.Parameter(torch.tensor(logits))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits


def lenet(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return create_model("lenet5", num_classes=N, in_channels=1)


def batch(b: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(b, 1, 16, 16, generator=g), torch.arange(b) % N


def step(name: str, model: nn.Module, teacher: nn.Module | None = None, **hparams: float) -> StepOutput:
    method = create_method(name, **hparams)
    method.setup(model, N)
    x, y = batch()
    teacher_logits = teacher(x) if teacher is not None else None  # deliberately WITH grad
    return method.training_step(model, x, y, teacher_logits=teacher_logits)


def assert_all_learn(module: nn.Module) -> None:
    for name, p in module.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f"{name} got no gradient"


# -- registry ------------------------------------------------------------------------------
def test_core_methods_are_registered_with_the_right_batch_contract() -> None:
    assert set(CORE) <= set(list_methods())
    needs_teacher = {name: create_method(name).needs_teacher for name in CORE}
    assert needs_teacher == {"ce": False, "focusnet": True, "dropmax": False, "kd": True, "dereverse_kd": True}
    assert all(create_method(name).num_views == 1 for name in CORE)


def test_bad_hyper_parameters_are_rejected() -> None:
    with pytest.raises(TypeError, match="focusnet"):
        create_method("focusnet", gamma=1.0)
    with pytest.raises(ValueError, match="warm_rule"):
        create_method("focusnet", warm_rule="code")
    with pytest.raises(ValueError, match="alpha"):
        create_method("kd", alpha=1.5)
    with pytest.raises(ValueError, match="tau"):
        create_method("dropmax", tau=0.0)


# -- shapes and gradients ------------------------------------------------------------------
@pytest.mark.parametrize("name", CORE)
def test_step_shapes_and_which_parameters_learn(name: str) -> None:
    model = lenet(0)
    teacher = lenet(1) if create_method(name).needs_teacher else None
    method = create_method(name)
    method.setup(model, N)
    x, y = batch()
    out = method.training_step(model, x, y, teacher_logits=teacher(x) if teacher else None)
    assert out.loss.shape == () and torch.isfinite(out.loss)
    assert out.logits.shape == (4, N) and not out.logits.requires_grad
    assert torch.equal(out.targets, y)
    assert out.terms and all(v.shape == () and not v.requires_grad for v in out.terms.values())
    out.loss.backward()
    assert_all_learn(model)
    assert_all_learn(method)  # DropMax heads; nothing for the others
    if teacher is not None:
        assert all(p.grad is None for p in teacher.parameters()), "the frozen teacher must get no gradient"
    model.eval()
    method.eval()
    assert method.predict(model, x).shape == (4, N)


def test_teacher_methods_require_teacher_logits() -> None:
    x, y = batch()
    for name in ("focusnet", "kd", "dereverse_kd"):
        with pytest.raises(ValueError, match="teacher_logits"):
            create_method(name).training_step(lenet(0), x, y)


# -- ce ------------------------------------------------------------------------------------
def test_ce_by_hand() -> None:
    # z = (0, ln 2, 0) -> p = (1/4, 1/2, 1/4); target 1: CE = -ln 1/2 = ln 2
    out = create_method("ce").training_step(FixedLogits([[0.0, LN2, 0.0]]), None, torch.tensor([1]))
    assert out.loss.item() == pytest.approx(LN2)


# -- focusnet ------------------------------------------------------------------------------
def test_focusnet_by_hand() -> None:
    # z = (0, ln 2, 0) -> p = (1/4, 1/2, 1/4); z_b = (ln 2, 0, 0) -> p_b = (1/2, 1/4, 1/4); target 2.
    #   d = (-1/4, 1/4, 0): L_cls = ln(e^-1/4 + 2 e^1/4 + 1); warm l = (1/2, 0, 1/2): R_att = ln 4;
    #   R_ent = 3/2 ln 2. Loss = L_cls + ln 4 - 3/2 ln 2 = L_cls + 1/2 ln 2; two warm classes.
    l_cls = math.log(math.exp(-0.25) + 2 * math.exp(0.25) + 1)
    model, y = FixedLogits([[0.0, LN2, 0.0]]), torch.tensor([2])
    z_b = torch.tensor([[LN2, 0.0, 0.0]])
    out = create_method("focusnet").training_step(model, None, y, teacher_logits=z_b)
    assert out.loss.item() == pytest.approx(l_cls + 0.5 * LN2, rel=1e-6)
    assert out.terms["l_cls"].item() == pytest.approx(l_cls, rel=1e-6)
    assert out.terms["r_att"].item() == pytest.approx(2 * LN2, rel=1e-6)
    assert out.terms["r_ent"].item() == pytest.approx(1.5 * LN2, rel=1e-6)
    assert out.terms["warm_classes"].item() == 2
    # Table 10 row {L_cls, R_ent}: L_cls - 3/2 ln 2
    ablated = create_method("focusnet", use_att=False).training_step(model, None, y, teacher_logits=z_b)
    assert ablated.loss.item() == pytest.approx(l_cls - 1.5 * LN2, rel=1e-6)


def test_focusnet_defaults_are_the_papers() -> None:
    # Eq. 12 with alpha = beta = 1 (Sec. 3.4), Eq. 4's rule, no smoothing, all three terms;
    # d detached (our reading of Eq. 13, see focuslib.losses.focus_picking_terms)
    assert create_method("focusnet").hparams() == {
        "alpha": 1.0, "beta": 1.0, "detach_d": True, "warm_rule": "paper", "warm_temperature": 2.0,
        "label_smoothing": 0.0, "use_att": True, "use_ent": True,
    }


def test_focusnet_official_warm_rule_reaches_the_loss() -> None:
    # z_b = (-1, -3, -3), target 2: paper rule -> one-hot (1 class); official softmax(z_b/2) =
    # (0.576, 0.212, 0.212) -> class 0 > 1/3 also set (2 classes).
    z_b = torch.tensor([[-1.0, -3.0, -3.0]])
    warm = {
        rule: create_method("focusnet", warm_rule=rule)
        .training_step(FixedLogits([[0.0, 0.0, 0.0]]), None, torch.tensor([2]), teacher_logits=z_b)
        .terms["warm_classes"]
        .item()
        for rule in ("paper", "official")
    }
    assert warm == {"paper": 1, "official": 2}


def test_focusnet_predicts_with_plain_logits() -> None:
    model, (x, _) = lenet(0), batch()
    model.eval()
    torch.testing.assert_close(create_method("focusnet").predict(model, x), model(x))


# -- kd ------------------------------------------------------------------------------------
def test_kd_by_hand() -> None:
    # T = 2, alpha = 1/2, target 0.
    # student s = 2 ln(1/2, 1/4, 1/4): softmax(s) ~ (1/4, 1/16, 1/16) -> (2/3, 1/6, 1/6), CE = ln 3/2;
    #   softmax(s/T) = (1/2, 1/4, 1/4).  teacher t = 2 ln(1/4, 1/2, 1/4): softmax(t/T) = (1/4, 1/2, 1/4).
    # KL(t||s) = 1/4 ln 1/2 + 1/2 ln 2 = 1/4 ln 2; T^2 KL = ln 2.
    # loss = 1/2 ln 3/2 + 1/2 ln 2 = 1/2 ln 3.
    s = [[2 * math.log(0.5), 2 * math.log(0.25), 2 * math.log(0.25)]]
    t = torch.tensor([[2 * math.log(0.25), 2 * math.log(0.5), 2 * math.log(0.25)]])
    out = create_method("kd", alpha=0.5, temperature=2.0).training_step(
        FixedLogits(s), None, torch.tensor([0]), teacher_logits=t
    )
    assert out.loss.item() == pytest.approx(0.5 * LN3, rel=1e-6)
    assert out.terms["ce"].item() == pytest.approx(math.log(1.5), rel=1e-6)
    assert out.terms["kl"].item() == pytest.approx(LN2, rel=1e-6)


def test_kd_presets() -> None:
    # Tf-KD repo presets: ResNet-18 -> MobileNetV2 (alpha .95, T 20); MobileNetV2 -> ResNet-18 (.6, 20)
    assert create_method("kd").hparams() == {"alpha": 0.95, "temperature": 20.0}
    reverse = create_method("dereverse_kd")
    assert isinstance(reverse, DeReverseKD) and isinstance(reverse, KnowledgeDistillation)
    assert reverse.hparams() == {"alpha": 0.6, "temperature": 20.0}


# -- dropmax -------------------------------------------------------------------------------
def test_dropmax_masked_cross_entropy_by_hand() -> None:
    # o = (0, ln 2, 0), mask = (1, 1/2, 0), target 0: weights (z + eps) e^o = (1, 1, 1e-20)
    #   -> CE = -ln(1 / (2 + 1e-20)) = ln 2
    logits = masked_logits(torch.tensor([[0.0, LN2, 0.0]]), torch.tensor([[1.0, 0.5, 0.0]]))
    assert F.cross_entropy(logits, torch.tensor([0])).item() == pytest.approx(LN2, rel=1e-6)


def test_dropmax_regularisers_by_hand() -> None:
    target = torch.tensor([0])
    # rho = sigmoid(ln 3, 0, 0) = (3/4, 1/2, 1/2); q = sigmoid(0, -ln 3, 0) = (1/2, 1/4, 1/2).
    #   target: -ln 3/4 = ln 4/3; class 1: 1/4 ln(1/4 / 1/2) + 3/4 ln(3/4 / 1/2) = -1/4 ln 2 + 3/4 ln 3/2;
    #   class 2: q = rho -> 0.
    kl = dropmax_kl(torch.tensor([[LN3, 0.0, 0.0]]), torch.tensor([[0.0, -LN3, 0.0]]), target)
    assert kl.item() == pytest.approx(math.log(4 / 3) - 0.25 * LN2 + 0.75 * math.log(1.5), rel=1e-6)
    # r = sigmoid(ln 3, -ln 3, 0) = (3/4, 1/4, 1/2): -ln 3/4 - ln(1 - 1/4) - ln(1 - 1/2) = 2 ln 4/3 + ln 2
    aux = dropmax_aux(torch.tensor([[LN3, -LN3, 0.0]]), target)
    assert aux.item() == pytest.approx(2 * math.log(4 / 3) + LN2, rel=1e-6)
    # rho = (3/4, 1/2): 3/4 ln 3/4 + 1/4 ln 1/4 + 2 (1/2 ln 1/2) = 3/4 ln 3 - 2 ln 2 - ln 2 = 3/4 ln 3 - 3 ln 2
    neg_ent = dropmax_neg_entropy(torch.tensor([[LN3, 0.0]]))
    assert neg_ent.item() == pytest.approx(0.75 * LN3 - 3 * LN2, rel=1e-6)


def test_dropmax_mask_sampling() -> None:
    torch.manual_seed(0)
    # |logit u| <= 17 for float32 uniforms, so (+-30 + logit u) / 0.1 saturates the sigmoid to 1 / 0.
    mask = sample_mask(torch.tensor([[-30.0, -30.0, 30.0]]).repeat(100, 1), torch.zeros(100, dtype=torch.long), 0.1)
    assert (mask[:, 0] == 1).all() and (mask[:, 1] < 1e-30).all() and (mask[:, 2] == 1).all()
    # q = 1/2 at tau = 0.1: nearly binary, mean close to 1/2 (the target column is forced to 1)
    mask = sample_mask(torch.zeros(20000, 2), torch.zeros(20000, dtype=torch.long), 0.1)[:, 1]
    assert abs(mask.mean().item() - 0.5) < 0.02
    assert ((mask < 0.05) | (mask > 0.95)).float().mean() > 0.8


def _fixed_dropmax(o_bias: list[float], rho_bias: list[float], r_bias: list[float]) -> tuple[nn.Module, DropMax]:
    """LeNet-5 whose class logits and heads ignore the input: zero weights, chosen biases."""
    model = lenet(0)
    method = create_method("dropmax")
    method.setup(model, N)
    with torch.no_grad():
        for layer, bias in ((model.fc, o_bias), (method.rho_head, rho_bias), (method.r_head, r_bias)):
            layer.weight.zero_()
            layer.bias.copy_(torch.tensor(bias))
    return model, method


def test_dropmax_step_by_hand() -> None:
    # o = (0, ln 2, 0); ph = 0 -> rho = 1/2 everywhere; rh = (30, -30, 30) -> q = sigmoid(rh); target 0.
    #   mask: target 1, class 1 ~ 0, class 2 = 1 -> weights (1, ~0, 1) -> CE = ln 2
    #   KL: target -ln 1/2 = ln 2; classes 1, 2: q ~ 0 or 1 vs rho = 1/2 -> ln 2 each; total 3 ln 2
    #   aux: -ln r_0 ~ 0, -ln(1 - r_1) ~ 0, -ln(1 - r_2) = softplus(30) ~ 30
    #   neg_ent: 3 (1/2 ln 1/2 + 1/2 ln 1/2) = -3 ln 2.      loss = ln 2 + 3 ln 2 + 30 - 3 ln 2 = 30 + ln 2
    torch.manual_seed(0)
    model, method = _fixed_dropmax([0.0, LN2, 0.0], [0.0, 0.0, 0.0], [30.0, -30.0, 30.0])
    x, _ = batch()
    y = torch.zeros(4, dtype=torch.long)
    out = method.training_step(model, x, y)
    expected = {"ce": LN2, "kl": 3 * LN2, "aux": 30.0, "neg_ent": -3 * LN2}
    assert {k: round(v.item(), 5) for k, v in out.terms.items()} == {k: round(v, 5) for k, v in expected.items()}
    assert out.loss.item() == pytest.approx(30 + LN2, rel=1e-6)


def test_dropmax_predicts_with_the_expected_mask() -> None:
    # rho = sigmoid(ln 3, 0, -ln 3) = (3/4, 1/2, 1/4): predict = o + ln(rho + 1e-20) = o + (ln 3/4, -ln 2, -ln 4)
    model, method = _fixed_dropmax([0.0, LN2, 0.0], [LN3, 0.0, -LN3], [0.0, 0.0, 0.0])
    x, _ = batch()
    model.eval()
    method.eval()
    expected = torch.tensor([math.log(0.75), LN2 - LN2, -2 * LN2]).expand(4, N)
    torch.testing.assert_close(method.predict(model, x), expected)
    # (3/4 e^0, 1/2 e^ln2, 1/4 e^0) = (3/4, 1, 1/4): class 1 wins, although rho favours class 0
    assert (method.predict(model, x).argmax(1) == 1).all()


def test_dropmax_rho_gets_no_gradient_through_the_mask() -> None:
    # q = sigmoid(sg(ph) + rh): the masked CE reaches the r head (through the mask) but not the rho head.
    model, method = lenet(0), create_method("dropmax")
    method.setup(model, N)
    x, y = batch()
    terms, _ = method.terms(model, x, y)
    terms.ce.backward()
    assert method.rho_head.weight.grad is None
    assert method.r_head.weight.grad is not None and method.r_head.weight.grad.abs().sum() > 0


def test_dropmax_needs_setup() -> None:
    x, y = batch()
    with pytest.raises(RuntimeError, match="setup"):
        create_method("dropmax").training_step(lenet(0), x, y)


@pytest.mark.parametrize("name", ["ce", "kd", "dereverse_kd"])
def test_cross_entropy_keeps_float64_input_in_float64(name):
    torch.manual_seed(0)
    net = torch.nn.Linear(4, 3).double()
    x, y = torch.randn(6, 4, dtype=torch.float64), torch.tensor([0, 1, 2, 0, 1, 2])
    teacher = torch.randn(6, 3, dtype=torch.float64) if name != "ce" else None
    out = create_method(name).training_step(net, x, y, teacher_logits=teacher)
    assert out.loss.dtype == torch.float64
    expected = torch.nn.functional.cross_entropy(net(x), y)  # float64 throughout
    assert torch.equal(out.terms["ce"], expected.detach())
