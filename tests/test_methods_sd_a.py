"""Checks of Tf-KD (self, reg), ONE, DDGSD, BYOT and CS-KD against values worked out by hand.

Hand logits are logs of probabilities so that softmax is exact, e.g. ``(T ln 3, 0) / T -> (3/4, 1/4)``.
Two-class softmaxes are sigmoids: ``softmax((a, 0)) = (s(a), s(-a))``. Reference facts (official
code, presets) are from shared/reference/methods.md Sec. 4-8.
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import Tensor, nn
from torchvision.models.resnet import BasicBlock, ResNet

from focuslib.datasets import load_tensors
from focuslib.methods import create_method
from focuslib.methods.byot import byot_loss
from focuslib.methods.cskd import cskd_loss, cskd_preset
from focuslib.methods.ddgsd import ddgsd_loss, mmd2
from focuslib.methods.one import ONE, one_loss, one_rampup_weight
from focuslib.methods.tfkd import tfkd_reg_loss, tfkd_self_loss, virtual_teacher
from focuslib.models import create_model, resnet_stage_channels

LN2, LN3 = math.log(2), math.log(3)
METHODS = ("tfkd_self", "tfkd_reg", "one", "ddgsd", "byot", "cskd")


def sig(a: float) -> float:
    return 1.0 / (1.0 + math.exp(-a))


def kl2(p0: float, q0: float) -> float:
    """KL((p0, 1 - p0) || (q0, 1 - q0))."""
    return p0 * math.log(p0 / q0) + (1 - p0) * math.log((1 - p0) / (1 - q0))


#: KL((3/4, 1/4) || (1/2, 1/2)) = 3/4 ln(3/2) + 1/4 ln(1/2) = 0.304099 - 0.173287 = 0.130812
KL_34_HALF = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)


pytestmark = pytest.mark.usefixtures("one_thread")


def tiny_resnet(num_classes: int, in_channels: int = 3, widths: tuple[int, ...] = (8, 16, 32, 64)) -> ResNet:
    """A genuine torchvision ``ResNet`` (the methods rely on its attributes) with the small-input
    stem and one narrow ``BasicBlock`` per stage, to keep the tests fast."""
    model = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=num_classes)
    model.conv1 = nn.Conv2d(in_channels, widths[0], 3, 1, 1, bias=False)
    model.bn1 = nn.BatchNorm2d(widths[0])
    model.maxpool = nn.Identity()
    c_in = widths[0]
    for k, (width, stride) in enumerate(zip(widths, (1, 2, 2, 2)), 1):
        down = None
        if stride != 1 or c_in != width:
            down = nn.Sequential(nn.Conv2d(c_in, width, 1, stride, bias=False), nn.BatchNorm2d(width))
        setattr(model, f"layer{k}", nn.Sequential(BasicBlock(c_in, width, stride, down)))
        c_in = width
    model.fc = nn.Linear(c_in, num_classes)
    return model


def assert_rows(actual: Tensor, expected: list[list[float]]) -> None:
    torch.testing.assert_close(actual, torch.tensor(expected, dtype=actual.dtype), rtol=0, atol=1e-6)


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def batch_for(method, x: Tensor, y: Tensor) -> tuple[Tensor | tuple[Tensor, Tensor], Tensor]:
    """Shape a plain batch the way the trainer does for ``method`` (views or partners)."""
    if method.num_views == 2:
        return (x, torch.roll(x, 1, dims=3)), y
    if method.paired_sampling:
        return torch.cat([x, x.flip(3)]), torch.cat([y, y])
    return x, y


# ---------------------------------------------------------------------------------------
# Tf-KD
# ---------------------------------------------------------------------------------------


def test_tfkd_self_loss_by_hand() -> None:
    # student (0, 0) -> (1/2, 1/2); teacher (6 ln 3, 0) at T = 6 -> (3/4, 1/4); CE = ln 2.
    # element-wise mean divides the KL sum by B * N = 2: kd = 50 * 36 * KL / 2 = 900 * 0.130812 = 117.7308
    # loss = 0.05 ln 2 + 0.95 * 117.7308 = 0.034657 + 111.8443 = 111.8789
    z, t, y = torch.zeros(1, 2), torch.tensor([[6 * LN3, 0.0]]), torch.tensor([0])
    loss, terms = tfkd_self_loss(z, y, t)
    kd = 900 * KL_34_HALF
    assert terms["ce"].item() == pytest.approx(LN2)
    assert terms["kd"].item() == pytest.approx(kd, rel=1e-5)
    assert loss.item() == pytest.approx(0.05 * LN2 + 0.95 * kd, rel=1e-5)
    # batch mean: twice the element-wise value at N = 2
    _, terms = tfkd_self_loss(z, y, t, kl_reduction="batchmean")
    assert terms["kd"].item() == pytest.approx(2 * kd, rel=1e-5)


def test_tfkd_self_teacher_gets_no_gradient() -> None:
    torch.manual_seed(0)
    student, teacher = tiny_resnet(3), tiny_resnet(3).eval()
    method = create_method("tfkd_self")
    x, y = torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 2, 0])
    out = method.training_step(student, x, y, teacher_logits=teacher(x))  # teacher run *with* a graph
    out.loss.backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert all(p.grad is not None for p in student.parameters())


def test_tfkd_self_needs_teacher_logits() -> None:
    method = create_method("tfkd_self")
    assert method.needs_teacher
    with pytest.raises(ValueError, match="teacher"):
        method.training_step(tiny_resnet(3), torch.randn(2, 3, 8, 8), torch.tensor([0, 1]))


def test_virtual_teacher_by_hand() -> None:
    # N = 4, target 2: 0.99 on class 2, 0.01 / 3 on the others
    other = 0.01 / 3
    assert_rows(virtual_teacher(torch.tensor([2]), 4), [[other, other, 0.99, other]])


def test_tfkd_reg_loss_by_hand_official_and_paper_form() -> None:
    # p^d = (0.99, 0.01); softmax(p^d / 20) = softmax((0.0495, 0.0005)) = (s(0.049), s(-0.049)) = (0.512248, ...)
    # student (2, 0): official q = softmax((2, 0)) = (s(2), ...) = (0.880797, ...); paper q = softmax((0.1, 0)).
    # element-wise mean over N = 2: reg = 100 * KL / 2; CE = ln(1 + e^-2) = 0.126928; loss = 0.9 CE + 0.1 reg
    z, y = torch.tensor([[2.0, 0.0]], dtype=torch.float64), torch.tensor([0])  # the paper-form KL is ~3e-4
    ce = math.log(1 + math.exp(-2))
    p0 = sig(0.049)
    for student_temperature, q0 in ((False, sig(2.0)), (True, sig(0.1))):
        reg = 50 * kl2(p0, q0)
        loss, terms = tfkd_reg_loss(z, y, student_temperature=student_temperature)
        assert terms["reg"].item() == pytest.approx(reg, rel=1e-5)
        assert loss.item() == pytest.approx(0.9 * ce + 0.1 * reg, rel=1e-5)


def test_tfkd_defaults_are_the_official_resnet18_presets() -> None:
    assert create_method("tfkd_self").hparams() == {
        "alpha": 0.95, "temperature": 6.0, "multiplier": 50.0, "kl_reduction": "elementwise_mean"
    }  # fmt: skip
    assert create_method("tfkd_reg").hparams() == {
        "alpha": 0.1, "temperature": 20.0, "multiplier": 100.0, "correct_prob": 0.99,
        "kl_reduction": "elementwise_mean", "student_temperature": False,
    }  # fmt: skip


def test_tfkd_rejects_bad_options() -> None:
    with pytest.raises(ValueError, match="kl_reduction"):
        create_method("tfkd_self", kl_reduction="mean")
    with pytest.raises(ValueError, match="alpha"):
        create_method("tfkd_reg", alpha=1.5)
    with pytest.raises(ValueError, match="correct_prob"):
        create_method("tfkd_reg", correct_prob=1.0)


# ---------------------------------------------------------------------------------------
# ONE
# ---------------------------------------------------------------------------------------


def test_one_rampup_weight_by_hand() -> None:
    # exp(-5 (1 - e/R)^2): e = 0 -> e^-5 = 0.006738; e = 40 of 80 -> e^(-5/4) = 0.286505; e >= R -> 1
    assert one_rampup_weight(0, 80) == pytest.approx(math.exp(-5))
    assert one_rampup_weight(40, 80) == pytest.approx(math.exp(-1.25))
    assert one_rampup_weight(80, 80) == one_rampup_weight(120, 80) == 1.0
    assert one_rampup_weight(3, 0) == 1.0


def test_one_rampup_scaling() -> None:
    # official R = 80 of 300 epochs; scaled to a 200-epoch run: 80 * 200 / 300 = 53.33
    assert ONE().rampup_length(200) == 80.0
    assert ONE(scale_rampup=True).rampup_length(200) == pytest.approx(160 / 3)


def test_one_loss_by_hand_and_gate_gradient() -> None:
    # branches z1 = (0, 0), z2 = (2, 0), gate (3/4, 1/4) -> ensemble z_e = (1/2, 0); target 0; T = 3; w = 0.5
    # CE: ln 2 + ln(1 + e^-2) + ln(1 + e^-1/2);  p_e = (s(1/6), .); q1 = (1/2, 1/2); q2 = (s(2/3), .)
    # loss = CE + 0.5 * 9 * (KL(p_e || q1) + KL(p_e || q2))
    z1, z2 = torch.zeros(1, 2), torch.tensor([[2.0, 0.0]])
    gate = torch.tensor([[0.75, 0.25]], requires_grad=True)
    loss, terms = one_loss([z1, z2], gate, torch.tensor([0]), consistency_weight=0.5, temperature=3.0)
    kl = 9 * (kl2(sig(1 / 6), 0.5) + kl2(sig(1 / 6), sig(2 / 3)))
    ce = LN2 + math.log(1 + math.exp(-2)) + math.log(1 + math.exp(-0.5))
    assert terms["kl"].item() == pytest.approx(kl, rel=1e-5)
    assert loss.item() == pytest.approx(ce + 0.5 * kl, rel=1e-5)
    # The KL target is detached, so the gate learns only from CE(z_e):
    # dCE/dg_i = (softmax(z_e) - y) . z_i = (s(1/2) - 1, s(-1/2)) . z_i -> (0, 2 (s(1/2) - 1)) = (0, -0.755081)
    loss.backward()
    assert_rows(gate.grad, [[0.0, -2 * sig(-0.5)]])


def test_one_builds_fresh_branches_and_all_of_them_learn() -> None:
    torch.manual_seed(0)
    model, method = tiny_resnet(3), create_method("one")
    method.setup(model, 3)
    assert len(method.layer4) == len(method.fc) == 2  # branches 1, 2; branch 0 is the model's own
    own = dict(model.layer4.named_parameters())
    for copy in method.layer4:
        for name, p in copy.named_parameters():
            assert p.data_ptr() != own[name].data_ptr()
            if p.ndim == 4:  # convolutions are re-initialised, not cloned
                assert not torch.equal(p, own[name])
    x, y = torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 2, 0])
    out = method.training_step(model, x, y, epoch=80, num_epochs=300)
    out.loss.backward()
    for p in list(model.parameters()) + list(method.parameters()):
        assert p.grad is not None and p.grad.abs().sum() > 0
    model.eval(), method.eval()
    assert torch.equal(method.predict(model, x), model(x))  # deployed: branch 0 only


def test_one_parameters_for_resnet18_200_classes() -> None:
    # ResNet-18 layer4: block 1 = 256*512*9 + 512*512*9 + 256*512 (shortcut) + 3 BN * 1024 = 3,673,088;
    # block 2 = 2 * 512*512*9 + 2 BN * 1024 = 4,720,640; layer4 = 8,393,728. fc(512 -> 200) = 102,600.
    # gate Linear(256, 3) + BN1d(3) = 771 + 6 = 777. Two extra branches: 2 * 8,496,328 + 777 = 16,993,433.
    model = create_model("resnet18", 200, small_input=True)
    method = create_method("one")
    method.setup(model, 200)
    assert n_params(method) == 16_993_433
    assert n_params(model) == 11_271_432  # what is deployed (Table 6: ONE 11.27 M)


# ---------------------------------------------------------------------------------------
# DDGSD
# ---------------------------------------------------------------------------------------


def test_mmd2_by_hand() -> None:
    # linear: means (2, 0) and (0, 1) -> ||(2, -1)||^2 = 5
    f_a, f_b = torch.tensor([[1.0, 0.0], [3.0, 0.0]]), torch.tensor([[0.0, 1.0], [0.0, 1.0]])
    assert mmd2(f_a, f_b).item() == pytest.approx(5.0)
    # gaussian, one point each at distance 2: MMD^2 = 1 + 1 - 2 exp(-4 / (2 sigma^2));
    # median heuristic sigma = 2 -> 2 - 2 e^-0.5 = 0.786939; sigma = 1 -> 2 - 2 e^-2 = 1.729329
    a, b = torch.zeros(1, 2), torch.tensor([[2.0, 0.0]])
    assert mmd2(a, b, "gaussian").item() == pytest.approx(2 - 2 * math.exp(-0.5), rel=1e-6)
    assert mmd2(a, b, "gaussian", sigma=1.0).item() == pytest.approx(2 - 2 * math.exp(-2), rel=1e-6)


def test_ddgsd_loss_by_hand_and_detached_targets() -> None:
    # views: z_a = (0, 0), z_b = (3 ln 3, 0); T = 3: p_a = (1/2, 1/2), p_b = (3/4, 1/4); target 0
    # CE = ln 2 + ln(1 + 1/27); KL(p_b||p_a) = 0.130812, KL(p_a||p_b) = 1/2 ln(2/3) + 1/2 ln 2 = 0.143841
    # features (1, 0) vs (0, 1): linear MMD^2 = 2; lam = 1, mu = 0.5 -> loss = CE + 9 (0.130812 + 0.143841) + 1
    z_a = torch.zeros(1, 2, requires_grad=True)
    z_b = torch.tensor([[3 * LN3, 0.0]], requires_grad=True)
    f_a, f_b = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    loss, terms = ddgsd_loss(z_a, z_b, f_a, f_b, torch.tensor([0]), lam=1.0, mu=0.5, temperature=3.0)
    kl = 9 * (KL_34_HALF + 0.5 * math.log(2 / 3) + 0.5 * LN2)
    assert terms["kl"].item() == pytest.approx(kl, rel=1e-5)
    assert terms["mmd"].item() == pytest.approx(2.0)
    assert loss.item() == pytest.approx(LN2 + math.log(28 / 27) + kl + 1.0, rel=1e-5)
    # each view's target is detached, so only its own KL (with the other view as target) reaches it:
    # dL/dz_a = (softmax(z_a) - y) + T (p_a - p_b) = (-1/2, 1/2) + 3 (-1/4, 1/4) = (-1.25, 1.25)
    # dL/dz_b = (27/28 - 1, 1/28) + 3 (p_b - p_a) = (-1/28 + 0.75, 1/28 - 0.75)
    loss.backward()
    assert_rows(z_a.grad, [[-1.25, 1.25]])
    assert_rows(z_b.grad, [[0.75 - 1 / 28, 1 / 28 - 0.75]])


def test_ddgsd_step_uses_both_views() -> None:
    torch.manual_seed(0)
    model, method = tiny_resnet(3), create_method("ddgsd")
    assert method.num_views == 2
    x, y = torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 2, 0])
    out = method.training_step(model, (x, x.flip(3)), y)
    assert out.logits.shape == (8, 3) and out.targets.tolist() == [0, 1, 2, 0] * 2
    with pytest.raises(ValueError, match="two augmented views"):
        method.training_step(model, x, y)


def test_ddgsd_defaults_and_bad_options() -> None:
    # unofficial port youngerous/ddgsd-pytorch scripts/run_ddgsd.sh: lambda 1, mu 5e-4, T 3
    assert create_method("ddgsd").hparams() == {
        "lam": 1.0, "mu": 5e-4, "temperature": 3.0, "kernel": "linear", "sigma": None
    }  # fmt: skip
    with pytest.raises(ValueError, match="kernel"):
        create_method("ddgsd", kernel="rbf")
    with pytest.raises(ValueError, match="sigma"):
        create_method("ddgsd", kernel="gaussian", sigma=0.0)


# ---------------------------------------------------------------------------------------
# BYOT
# ---------------------------------------------------------------------------------------


def _byot_case() -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Two identical rows: deepest (3 ln 3, 0) -> (3/4, 1/4) at T = 3; one head (0, 0); target 0;
    deepest feature 0, head hint ((3, 0), (0, 4)) -> whole-batch L2 norm 5, sum of squares 25."""
    deep = torch.tensor([[3 * LN3, 0.0]] * 2, requires_grad=True)
    head = torch.zeros(2, 2, requires_grad=True)
    deep_feature = torch.zeros(2, 2, requires_grad=True)
    hint = torch.tensor([[3.0, 0.0], [0.0, 4.0]], requires_grad=True)
    return deep, head, torch.tensor([0, 0]), deep_feature, hint


def test_byot_official_loss_by_hand_and_detached_teacher() -> None:
    # CE(z_0) = ln(1 + 1/27) = ln(28/27); head: 0.7 CE = 0.7 ln 2, 0.3 softCE = 0.3 * -(3/4 + 1/4) ln(1/2) = 0.3 ln 2;
    # feature 0.03 * ||hint - 0||_2 = 0.03 * 5 = 0.15.  loss = ln(28/27) + ln 2 + 0.15
    deep, head, y, deep_feature, hint = _byot_case()
    loss, terms = byot_loss(deep, [head], y, deep_feature, [hint])
    assert terms["kd"].item() == pytest.approx(0.3 * LN2, rel=1e-6)
    assert terms["feature"].item() == pytest.approx(0.15, rel=1e-6)
    assert loss.item() == pytest.approx(math.log(28 / 27) + LN2 + 0.15, rel=1e-6)
    loss.backward()
    # the deepest classifier learns only from its CE: (softmax - y) / B = ((27/28, 1/28) - (1, 0)) / 2 per row
    assert_rows(deep.grad, [[-1 / 56, 1 / 56]] * 2)
    assert deep_feature.grad is None
    # d(0.03 ||h||)/dh = 0.03 h / ||h|| = 0.03 ((0.6, 0), (0, 0.8))
    assert_rows(hint.grad, [[0.018, 0.0], [0.0, 0.024]])


def test_byot_paper_loss_by_hand() -> None:
    # (1 - 0.1) (ln(28/27) + ln 2) + 0.1 * 9 * KL((3/4, 1/4) || (1/2, 1/2)) + 1e-6 * 25
    deep, head, y, deep_feature, hint = _byot_case()
    loss, terms = byot_loss(deep, [head], y, deep_feature, [hint], form="paper", alpha=0.1, feature_weight=1e-6)
    assert terms["kd"].item() == pytest.approx(0.9 * KL_34_HALF, rel=1e-5)
    assert loss.item() == pytest.approx(0.9 * (math.log(28 / 27) + LN2) + 0.9 * KL_34_HALF + 25e-6, rel=1e-5)


def test_byot_heads_match_table6_parameter_count() -> None:
    # per SepConv(a, b) = 9a + a*a + 2a + 9a + a*b + 2b (dw, pw, BN, dw, pw, BN):
    # (64,128) 13,824; (128,256) 52,224; (256,512) 202,752; attention (64,64) 9,600; (128,128) 35,584; (256,256) 136,704
    # bottlenecks 268,800 + 254,976 + 202,752 = 726,528; attention 181,888; 3 fc(512 -> 200) = 307,800
    # heads = 1,216,216; + small ResNet-18 11,271,432 = 12,487,648 -> Table 6 BYOT 12.49 M
    model = create_model("resnet18", 200, small_input=True)
    bare = create_method("byot", feature_weight=0.0)
    bare.setup(model, 200)
    assert n_params(bare) == 1_216_216
    assert n_params(model) + n_params(bare) == 12_487_648
    official = create_method("byot")
    official.setup(model, 200)
    # + two adaptation layers Linear(512, 512) for the stage-1 and stage-2 heads: 2 * 262,656 = 525,312
    assert sorted(official.adaptation) == ["1", "2"]
    assert n_params(official) == 1_216_216 + 525_312


def test_byot_step_trains_heads_and_backbone() -> None:
    torch.manual_seed(0)
    for form, adapted in (("official", ["1", "2"]), ("paper", [])):
        model, method = tiny_resnet(3), create_method("byot", form=form)
        method.setup(model, 3)
        assert sorted(method.adaptation) == adapted
        x, y = torch.randn(4, 3, 8, 8), torch.tensor([0, 1, 2, 0])
        out = method.training_step(model, x, y)
        out.loss.backward()
        for p in list(model.parameters()) + list(method.parameters()):
            assert p.grad is not None and p.grad.abs().sum() > 0
        model.eval(), method.eval()
        assert torch.equal(method.predict(model, x), model(x))  # the deepest classifier


def test_byot_defaults_per_form_and_bad_options() -> None:
    assert create_method("byot").hparams() == {
        "form": "official", "alpha": 0.3, "temperature": 3.0, "feature_weight": 0.03
    }  # fmt: skip
    assert create_method("byot", form="paper").hparams() == {
        "form": "paper", "alpha": 0.1, "temperature": 3.0, "feature_weight": 1e-6
    }  # fmt: skip
    with pytest.raises(ValueError, match="official"):
        create_method("byot", form="iccv")


def test_resnet_methods_reject_other_networks() -> None:
    assert resnet_stage_channels(tiny_resnet(3), "byot") == (8, 16, 32, 64)
    lenet = create_model("lenet5", 10, in_channels=1)
    for name in ("one", "byot"):
        with pytest.raises(TypeError, match="torchvision ResNet"):
            create_method(name).setup(lenet, 10)


# ---------------------------------------------------------------------------------------
# CS-KD
# ---------------------------------------------------------------------------------------


def test_cskd_loss_by_hand_and_partner_gets_no_gradient() -> None:
    # z = (0, 0), z' = (4 ln 3, 0) -> (3/4, 1/4) at T = 4; lam = 3: loss = ln 2 + 3 * 16 * 0.130812
    z = torch.zeros(1, 2, requires_grad=True)
    z_partner = torch.tensor([[4 * LN3, 0.0]], requires_grad=True)
    loss, terms = cskd_loss(z, z_partner, torch.tensor([0]), lam=3.0)
    assert terms["cls"].item() == pytest.approx(16 * KL_34_HALF, rel=1e-5)
    assert loss.item() == pytest.approx(LN2 + 48 * KL_34_HALF, rel=1e-5)
    # dL/dz = (softmax(z) - y) + lam T (softmax(z/T) - p') = (-1/2, 1/2) + 12 (-1/4, 1/4) = (-3.5, 3.5)
    loss.backward()
    assert_rows(z.grad, [[-3.5, 3.5]])
    assert z_partner.grad is None


class _Recorder(nn.Module):
    """Logs (rows, grad enabled, train mode) of every forward call."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 3)
        self.calls: list[tuple[int, bool, bool]] = []

    def forward(self, x: Tensor) -> Tensor:
        self.calls.append((x.shape[0], torch.is_grad_enabled(), self.training))
        return self.fc(x)


def test_cskd_step_partners_run_without_grad_in_train_mode() -> None:
    model, method = _Recorder(), create_method("cskd")
    assert method.paired_sampling
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    out = method.training_step(model, x, y)
    # first the B = 3 labelled rows with grad, then the 3 partners without grad, both in train mode
    assert model.calls == [(3, True, True), (3, False, True)]
    assert out.logits.shape == (3, 3) and out.targets.tolist() == [0, 1, 2]
    with pytest.raises(ValueError, match="paired batch"):
        method.training_step(model, x[:5], y[:5])


def test_cskd_presets() -> None:
    # official README: CIFAR-100 lam 1 (batch default 128); CUB-200 lam 3 with --batch-size 32
    assert cskd_preset("cifar100") == {"lam": 1.0, "batch_size": 128}
    assert cskd_preset("tinyimagenet") == {"lam": 1.0, "batch_size": 128}
    assert cskd_preset("CUB-200") == cskd_preset("stanford_dogs") == {"lam": 3.0, "batch_size": 32}
    with pytest.raises(ValueError, match="no CS-KD preset"):
        cskd_preset("imagenet")
    assert create_method("cskd").hparams() == {"lam": 1.0, "temperature": 4.0}


# ---------------------------------------------------------------------------------------
# All six: a short training run (the step's output contract: test_registry_contract.py)
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", METHODS)
def test_training_loss_falls_on_digits(name: str) -> None:
    """40 SGD steps (batch 32) on the 8x8 digits; the mean loss of the last 5 steps must be
    below 0.8 times that of the first 5. Tf-KD self distils from a frozen, randomly initialised
    teacher in eval mode (the test checks optimisation, not the teacher's quality)."""
    torch.manual_seed(0)
    data = load_tensors("digits", "train", size=8)
    images, targets = data.images.float() / 255, data.targets
    model, teacher = tiny_resnet(10, in_channels=1), tiny_resnet(10, in_channels=1).eval()
    method = create_method(name)
    method.setup(model, 10)
    optimiser = torch.optim.SGD(list(model.parameters()) + list(method.parameters()), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(40):
        idx = torch.randint(0, len(images), (32,))
        with torch.no_grad():
            teacher_logits = teacher(images[idx])
        x, y = batch_for(method, images[idx], targets[idx])
        out = method.training_step(model, x, y, teacher_logits=teacher_logits, epoch=80, num_epochs=200)
        optimiser.zero_grad()
        out.loss.backward()
        optimiser.step()
        losses.append(out.loss.item())
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-5:]) < 0.8 * sum(losses[:5])


def test_one_official_epsilon_moves_the_kl_as_its_docstring_says() -> None:
    """ONE's official target ``p + 1e-7`` against ours (no epsilon): the difference is
    ``eps * sum(log(p + eps) - log q) + sum(p log(1 + eps / p))``, far above ``N * eps`` for
    confident logits over many classes (issue 25)."""
    from focuslib.losses import distillation_kl  # noqa: PLC0415

    eps, n = 1e-7, 200
    gen = torch.Generator().manual_seed(0)
    student = torch.randn(4, n, generator=gen, dtype=torch.float64) * 40
    teacher = torch.randn(4, n, generator=gen, dtype=torch.float64) * 40
    p, log_q = torch.softmax(teacher, 1), torch.log_softmax(student, 1)
    official = ((p + eps) * (torch.log(p + eps) - log_q)).sum(1).mean()
    ours = distillation_kl(student, teacher, temperature=1.0)
    predicted = (eps * (torch.log(p + eps) - log_q).sum(1) + (p * torch.log1p(eps / p)).sum(1)).mean()
    assert official - ours == pytest.approx(predicted.item(), rel=1e-6)
    assert (official - ours).item() > 50 * n * eps  # 1.8e-3 here, about 90 x N * eps
