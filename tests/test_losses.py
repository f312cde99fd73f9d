"""Checks of focuslib.losses against values worked out by hand (the arithmetic is in comments).

Hand logits are logs of probabilities, so their softmax is exact: z = (ln 1, ln 2, ln 1) has
softmax (1/4, 1/2, 1/4).
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from focuslib.losses import (
    FocusTerms,
    distillation_kl,
    focus_picking_loss,
    focus_picking_terms,
    lcls_curve,
    multi_warm_label,
    reweighted_cross_entropy,
)

LN2, LN3, LN4 = math.log(2), math.log(3), math.log(4)


def t(*rows: tuple[float, ...]) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)


# Sample A: z = (0, ln 2, 0) -> p = (1/4, 1/2, 1/4); z_b = (ln 2, 0, 0) -> p_b = (2/4, 1/4, 1/4); target 2.
#   d = p - p_b = (-1/4, 1/4, 0), d_t = 0; z + d = (-1/4, ln 2 + 1/4, 0)
#   L_cls = -log[e^0 / (e^-1/4 + 2 e^1/4 + e^0)] = ln(e^-1/4 + 2 e^1/4 + 1)              (Eq. 9)
#   warm (Eq. 4): only z_b_0 > 0 -> l' = (1,0,0); + y = (0,0,1) -> l'' = (1,0,1) -> l = (1/2, 0, 1/2)
#   R_att = -(1/2 ln 1/4 + 1/2 ln 1/4) = ln 4                                             (Eq. 10)
#   R_ent = -(1/4 ln 1/4 + 1/2 ln 1/2 + 1/4 ln 1/4) = 1/2 ln 4 + 1/2 ln 2 = 3/2 ln 2     (Eq. 11)
# Sample B: z = z_b = (0, ln 2, 0), target 1: d = 0 so L_cls = CE = -ln 1/2 = ln 2;
#   warm: only class 1 > 0, target 1 -> l = (0, 1, 0), R_att = -ln 1/2 = ln 2; R_ent = 3/2 ln 2.
Z = t((0.0, LN2, 0.0), (0.0, LN2, 0.0))
ZB = t((LN2, 0.0, 0.0), (0.0, LN2, 0.0))
Y = torch.tensor([2, 1])
LCLS_A = math.log(math.exp(-0.25) + 2 * math.exp(0.25) + 1)
EXPECTED = {
    "l_cls": [LCLS_A, LN2],
    "r_att": [LN4, LN2],
    "r_ent": [1.5 * LN2, 1.5 * LN2],
}


def test_terms_of_the_three_class_hand_example() -> None:
    terms = focus_picking_terms(Z, ZB, Y, reduction="none")
    for name, expected in EXPECTED.items():
        torch.testing.assert_close(getattr(terms, name), torch.tensor(expected, dtype=torch.float64))


def test_total_and_reductions_of_the_hand_example() -> None:
    # alpha = beta = 1: A: L_cls + ln 4 - 3/2 ln 2 = LCLS_A + 1/2 ln 2; B: ln 2 + ln 2 - 3/2 ln 2 = 1/2 ln 2
    per_sample = torch.tensor([LCLS_A + 0.5 * LN2, 0.5 * LN2], dtype=torch.float64)
    torch.testing.assert_close(focus_picking_loss(Z, ZB, Y, reduction="none"), per_sample)
    torch.testing.assert_close(focus_picking_loss(Z, ZB, Y, reduction="sum"), per_sample.sum())
    torch.testing.assert_close(focus_picking_loss(Z, ZB, Y), per_sample.mean())
    # alpha = 2, beta = 1/2 on A: LCLS_A + 2 ln 4 - 3/4 ln 2 = LCLS_A + 13/4 ln 2
    torch.testing.assert_close(
        focus_picking_loss(Z[:1], ZB[:1], Y[:1], alpha=2.0, beta=0.5),
        torch.tensor(LCLS_A + 3.25 * LN2, dtype=torch.float64),
    )


@pytest.mark.parametrize(
    ("use_att", "use_ent", "expected"),
    [  # Table 10's rows on sample A: {L_cls}, {L_cls, R_ent}, {L_cls, R_att}, all three
        (False, False, LCLS_A),
        (False, True, LCLS_A - 1.5 * LN2),
        (True, False, LCLS_A + LN4),
        (True, True, LCLS_A + 0.5 * LN2),
    ],
)
def test_ablation_switches(use_att: bool, use_ent: bool, expected: float) -> None:
    loss = focus_picking_loss(Z[:1], ZB[:1], Y[:1], use_att=use_att, use_ent=use_ent)
    torch.testing.assert_close(loss, torch.tensor(expected, dtype=torch.float64))


def test_focus_terms_total_is_eq12() -> None:
    terms = FocusTerms(torch.tensor(3.0), torch.tensor(2.0), torch.tensor(0.5))
    assert terms.total(alpha=1.0, beta=1.0).item() == pytest.approx(3.0 + 2.0 - 0.5)
    assert terms.total(alpha=0.5, beta=2.0).item() == pytest.approx(3.0 + 1.0 - 1.0)


def test_label_smoothing_acts_on_l_cls_only() -> None:
    # Sample B with smoothing 0.1: target (1/30, 9/10 + 1/30, 1/30), log p = (-ln 4, -ln 2, -ln 4)
    #   L_cls = 2/30 ln 4 + 28/30 ln 2 = 32/30 ln 2; R_att stays ln 2.
    terms = focus_picking_terms(Z[1:], ZB[1:], Y[1:], label_smoothing=0.1)
    assert terms.l_cls.item() == pytest.approx(32 / 30 * LN2)
    assert terms.r_att.item() == pytest.approx(LN2)


# -- Eq. 14 ------------------------------------------------------------------------------
def test_r_att_gradient_is_softmax_minus_warm_label_by_hand() -> None:
    # Sample A: dR_att/dz = p - l = (1/4 - 1/2, 1/2 - 0, 1/4 - 1/2) = (-1/4, 1/2, -1/4)
    z = Z[:1].clone().requires_grad_()
    focus_picking_terms(z, ZB[:1], Y[:1]).r_att.backward()
    torch.testing.assert_close(z.grad, t((-0.25, 0.5, -0.25)))


def test_r_att_gradient_is_softmax_minus_warm_label_random() -> None:
    g = torch.Generator().manual_seed(0)
    z = torch.randn(6, 7, generator=g, dtype=torch.float64, requires_grad=True)
    z_b = torch.randn(6, 7, generator=g, dtype=torch.float64)
    y = torch.randint(0, 7, (6,), generator=g)
    focus_picking_terms(z, z_b, y, reduction="sum").r_att.backward()
    torch.testing.assert_close(z.grad, torch.softmax(z.detach(), 1) - multi_warm_label(z_b, y))


# -- Eq. 13 ------------------------------------------------------------------------------
def test_lcls_curve_decreases_in_d_t_and_matches_eq13_by_hand() -> None:
    n = 10
    df = lcls_curve(margins=(-2.0, 0.0, 2.0), num_classes=n, points=101)
    for m, curve in df.groupby("margin"):
        values = curve.sort_values("d_t")["l_cls"].to_numpy()
        assert (values[1:] < values[:-1]).all(), f"L_cls not decreasing for margin {m}"
        # d_t = 0: d = 0, plain CE of z = (m, 0, ..., 0): ln(e^m + 9) - m   (m = 0: ln 10)
        at_zero = curve.loc[curve["d_t"].abs() < 1e-9, "l_cls"].item()
        assert at_zero == pytest.approx(math.log(math.exp(m) + n - 1) - m)
        # d_t = 1, other d_j = -1/9: ln(e^(m+1) + 9 e^(-1/9)) - (m + 1)
        at_one = curve.loc[curve["d_t"].idxmax(), "l_cls"]
        assert at_one == pytest.approx(math.log(math.exp(m + 1) + 9 * math.exp(-1 / 9)) - (m + 1))
    assert math.log(10) == pytest.approx(df.loc[(df["margin"] == 0) & (df["d_t"].abs() < 1e-9), "ce"].item())


def test_lcls_decreases_in_d_t_for_random_logits() -> None:
    g = torch.Generator().manual_seed(1)
    z = torch.randn(1, 5, generator=g, dtype=torch.float64).expand(9, 5)
    d = torch.randn(1, 5, generator=g, dtype=torch.float64).repeat(9, 1) * 0.3
    d[:, 3] = torch.linspace(-1, 1, 9, dtype=torch.float64)
    values = reweighted_cross_entropy(z, d, torch.full((9,), 3), reduction="none")
    assert (values[1:] < values[:-1]).all()


def test_lcls_is_cross_entropy_when_logits_agree() -> None:
    g = torch.Generator().manual_seed(2)
    z = torch.randn(5, 4, generator=g)
    y = torch.randint(0, 4, (5,), generator=g)
    l_cls = focus_picking_terms(z, z.clone(), y).l_cls
    # d = softmax(z) - softmax(z) = 0, so Eq. 9 is torch's own cross-entropy
    torch.testing.assert_close(l_cls, F.cross_entropy(z, y))


# -- multi-warm label ----------------------------------------------------------------------
def test_multi_warm_label_properties_random() -> None:
    g = torch.Generator().manual_seed(3)
    z_b = torch.randn(50, 6, generator=g) * 3
    y = torch.randint(0, 6, (50,), generator=g)
    for rule in ("paper", "official"):
        label = multi_warm_label(z_b, y, rule=rule)
        assert (label[torch.arange(50), y] > 0).all()  # ground truth always set
        torch.testing.assert_close(label.sum(1), torch.ones(50))
        for row in label:  # non-zero entries are equal (Eq. 6)
            nz = row[row > 0]
            torch.testing.assert_close(nz, torch.full_like(nz, 1 / len(nz)))
    paper = multi_warm_label(z_b, y)
    assert ((paper > 0) == ((z_b > 0) | F.one_hot(y, 6).bool())).all()


def test_all_negative_baseline_gives_one_hot() -> None:
    z_b = -torch.rand(4, 5) - 0.1
    y = torch.tensor([0, 4, 2, 2])
    torch.testing.assert_close(multi_warm_label(z_b, y), F.one_hot(y, 5).float())


def test_official_rule_differs_on_hand_cases() -> None:
    # z_b = (-1, -3, -3), t = 2. Paper: no logit > 0 -> one-hot (0, 0, 1).
    #   Official: softmax(z_b/2) = (1, e^-1, e^-1)/(1 + 2e^-1) -> p_0 = 1/1.7358 = 0.576 > 1/3
    #   -> classes {0, 2} -> (1/2, 0, 1/2).
    # z_b = (3, 0.1, 0), t = 2. Paper: classes {0, 1} + target -> (1/3, 1/3, 1/3).
    #   Official: softmax(1.5, 0.05, 0) = (4.4817, 1.0513, 1)/6.533 = (0.686, 0.161, 0.153) -> {0, 2}.
    z_b = torch.tensor([[-1.0, -3.0, -3.0], [3.0, 0.1, 0.0]])
    y = torch.tensor([2, 2])
    torch.testing.assert_close(multi_warm_label(z_b, y), torch.tensor([[0, 0, 1.0], [1 / 3, 1 / 3, 1 / 3]]))
    torch.testing.assert_close(
        multi_warm_label(z_b, y, rule="official"), torch.tensor([[0.5, 0, 0.5], [0.5, 0, 0.5]])
    )


def test_official_rule_is_used_by_the_loss() -> None:
    # z = 0 (p uniform, log p = -ln 3), z_b = (-1, -3, -3), t = 2. R_att = -sum l log p = ln 3 for any l,
    # so compare the gradient p - l instead (Eq. 14): paper l = (0, 0, 1), official (1/2, 0, 1/2).
    z_b = torch.tensor([[-1.0, -3.0, -3.0]], dtype=torch.float64)
    grads = {}
    for rule in ("paper", "official"):
        z = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
        focus_picking_terms(z, z_b, torch.tensor([2]), warm_rule=rule).r_att.backward()
        grads[rule] = z.grad
    torch.testing.assert_close(grads["paper"], t((1 / 3, 1 / 3, 1 / 3 - 1)))
    torch.testing.assert_close(grads["official"], t((1 / 3 - 1 / 2, 1 / 3, 1 / 3 - 1 / 2)))


# -- detach_d ------------------------------------------------------------------------------
def test_detach_d_changes_the_gradient_not_the_value() -> None:
    # N = 2, z = (0, 0) -> p = (1/2, 1/2); z_b = (0, ln 3) -> p_b = (1/4, 3/4); target 0.
    #   d = (1/4, -1/4); z + d = (1/4, -1/4); q = softmax(z + d) = (1 - s, s), s = 1/(1 + e^(1/2)).
    #   L_cls = -ln(1 - s) = ln(1 + e^(-1/2)) in both cases.
    #   detached: dL/dz = q - y = (-s, s).
    #   attached: dL/dz = (I + J)^T (q - y), J = diag(p) - p p^T = [[1/4, -1/4], [-1/4, 1/4]];
    #     J (q - y) = (-s/4 - s/4, s/4 + s/4) = (-s/2, s/2) -> total (-3s/2, 3s/2).
    s = 1 / (1 + math.exp(0.5))
    z_b = t((0.0, LN3))
    results = {}
    for detach in (True, False):
        z = torch.zeros(1, 2, dtype=torch.float64, requires_grad=True)
        l_cls = focus_picking_terms(z, z_b, torch.tensor([0]), detach_d=detach).l_cls
        l_cls.backward()
        results[detach] = (l_cls.item(), z.grad)
    for value, _ in results.values():
        assert value == pytest.approx(math.log(1 + math.exp(-0.5)))
    torch.testing.assert_close(results[True][1], t((-s, s)))
    torch.testing.assert_close(results[False][1], t((-1.5 * s, 1.5 * s)))


def test_baseline_logits_get_no_gradient() -> None:
    z = torch.randn(3, 4, requires_grad=True)
    z_b = torch.randn(3, 4, requires_grad=True)
    focus_picking_loss(z, z_b, torch.tensor([0, 1, 3]), detach_d=False).backward()
    assert z_b.grad is None and z.grad is not None


# -- numerics ------------------------------------------------------------------------------
def test_bf16_autocast_is_finite_float32_and_close_to_fp32() -> None:
    torch.manual_seed(0)
    layer = torch.nn.Linear(16, 10)
    x = torch.randn(32, 16)
    z_b = torch.randn(32, 10) * 2
    y = torch.randint(0, 10, (32,))
    logits32 = layer(x)
    reference = focus_picking_loss(logits32, z_b, y)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = layer(x)
        assert logits.dtype == torch.bfloat16
        loss = focus_picking_loss(logits, z_b.bfloat16(), y)
    assert loss.dtype == torch.float32 and torch.isfinite(loss)
    assert loss.item() == pytest.approx(reference.item(), rel=2e-2)
    loss.backward()
    assert torch.isfinite(layer.weight.grad).all()
    # fp16 logits outside autocast: computed in float32 from the same half values
    half = focus_picking_loss(logits32.detach().half(), z_b.half(), y)
    assert half.dtype == torch.float32 and half.item() == pytest.approx(reference.item(), rel=1e-2)


def test_extreme_logits_stay_finite() -> None:
    z = torch.tensor([[1e4, -1e4, 0.0], [0.0, 0.0, 0.0]], requires_grad=True)
    z_b = torch.tensor([[0.0, 1e4, -1e4], [-1e4, 1e4, 0.0]])
    loss = focus_picking_loss(z, z_b, torch.tensor([1, 0]), detach_d=False)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()


def test_any_batch_size_and_class_count() -> None:
    for b, n in ((1, 2), (7, 3), (2, 200)):
        out = focus_picking_loss(torch.randn(b, n), torch.randn(b, n), torch.randint(0, n, (b,)), reduction="none")
        assert out.shape == (b,) and torch.isfinite(out).all()


def test_bad_input_is_rejected_with_a_clear_message() -> None:
    z, y = torch.zeros(2, 3), torch.tensor([0, 1])
    with pytest.raises(ValueError, match="warm_rule"):
        focus_picking_loss(z, z, y, warm_rule="code")
    with pytest.raises(ValueError, match="reduction"):
        focus_picking_loss(z, z, y, reduction="batchmean")
    with pytest.raises(ValueError, match="targets"):
        focus_picking_loss(z, z, torch.zeros(2, 3))
    with pytest.raises(ValueError, match="reference logits"):
        focus_picking_loss(z, torch.zeros(2, 4), y)
    with pytest.raises(ValueError, match="label_smoothing"):
        focus_picking_loss(z, z, y, label_smoothing=1.0)
    with pytest.raises(ValueError, match="alpha and beta"):
        focus_picking_loss(z, z, y, alpha=-1.0)


# -- distillation KL -----------------------------------------------------------------------
def test_distillation_kl_by_hand() -> None:
    # T = 2; s = 2 ln(1/2, 1/4, 1/4) -> softmax(s/T) = (1/2, 1/4, 1/4);
    #        t = 2 ln(1/4, 1/2, 1/4) -> softmax(t/T) = (1/4, 1/2, 1/4).
    # KL(t || s) = 1/4 ln(1/2) + 1/2 ln 2 + 1/4 ln 1 = 1/4 ln 2; times T^2 = 4 -> ln 2 per sample.
    s = (2 * torch.log(t((0.5, 0.25, 0.25)))).repeat(3, 1).requires_grad_()
    teacher = (2 * torch.log(t((0.25, 0.5, 0.25)))).repeat(3, 1).requires_grad_()
    kl = distillation_kl(s, teacher, temperature=2.0)
    assert kl.item() == pytest.approx(LN2)  # batchmean: sum over classes, mean over 3 samples
    assert distillation_kl(s, teacher, 2.0, reduction="sum").item() == pytest.approx(3 * LN2)
    kl.backward()
    assert teacher.grad is None and s.grad is not None
