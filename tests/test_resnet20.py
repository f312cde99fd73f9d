"""ResNet-20 (He et al. 2016, Sec. 4.2; option-A shortcuts): counts by hand from the layer shapes,
shapes, and the feature helpers the methods use."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from focuslib.complexity import ModelSpec, complexity_table, count_macs, count_parameters
from focuslib.models import classifier, create_model, penultimate, stage_features

# He et al. Sec. 4.2: 3x3 stem with 16 filters, then three stages of n = 3 basic blocks on maps of
# 32, 16, 8 pixels with 16, 32, 64 filters, global average pooling, one linear layer.
WIDTHS, SIDES, N = (16, 32, 64), (32, 16, 8), 3


def hand_layers(num_classes: int, in_channels: int = 3) -> list[tuple[int, int, int]]:
    """Every 3x3 conv as (in, out, output side), in order, plus the linear layer as (64, classes, 1)."""
    convs = [(in_channels, WIDTHS[0], SIDES[0])]
    previous = WIDTHS[0]
    for width, side in zip(WIDTHS, SIDES):
        for _ in range(N):
            convs += [(previous, width, side), (width, width, side)]
            previous = width
    return convs + [(WIDTHS[-1], num_classes, 1)]


def hand_params(num_classes: int) -> int:
    """3x3 conv weights (no bias) + batch-norm scale and shift after each; linear weight + bias.
    Option A shortcuts hold no parameters."""
    *convs, (d, k, _) = hand_layers(num_classes)
    return sum(9 * cin * cout + 2 * cout for cin, cout, _ in convs) + d * k + k


def hand_macs(num_classes: int) -> int:
    *convs, (d, k, _) = hand_layers(num_classes)
    return sum(side * side * cout * cin * 9 for cin, cout, side in convs) + d * k


def test_twenty_weighted_layers():
    assert len(hand_layers(10)) == 20  # 6n + 2 with n = 3
    model = create_model("resnet20", 10)
    weighted = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    assert len(weighted) == 20
    assert all(m.kernel_size == (3, 3) for m in weighted if isinstance(m, nn.Conv2d))  # no 1x1 projections


def test_parameter_count_by_hand_and_he_table6():
    count = count_parameters(create_model("resnet20", 10))
    assert count == hand_params(10) == 269_722
    assert round(count / 1e6, 2) == 0.27  # He et al. 2016, Table 6: 20 layers, 0.27M


def test_parameter_count_other_heads():
    # Only the linear layer depends on the classes (and the stem on the input channels).
    assert count_parameters(create_model("resnet20", 100)) == hand_params(100)
    assert count_parameters(create_model("resnet20", 10, in_channels=1)) == hand_params(10) - 9 * 2 * 16


def test_macs_by_hand_and_complexity_table():
    model = create_model("resnet20", 10)
    assert count_macs(model, (3, 32, 32)) == hand_macs(10) == 40_551_040
    row = complexity_table([ModelSpec("ResNet-20", "resnet20", 10, 32)]).iloc[0]
    assert (row["params"], row["macs"]) == (hand_params(10), hand_macs(10))


@pytest.mark.parametrize("small", [True, False])
@pytest.mark.parametrize("size", [32, 64])
def test_output_shape(small, size):
    model = create_model("resnet20", 7, small_input=small).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 3, size, size)).shape == (2, 7)


def test_stage_features_penultimate_and_classifier():
    torch.manual_seed(0)
    model = create_model("resnet20", 10, small_input=True).eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        stages, logits = stage_features(model, x)
        assert [tuple(s.shape[1:]) for s in stages] == [(16, 32, 32), (32, 16, 16), (64, 8, 8)]
        assert torch.allclose(logits, model(x), atol=1e-6)
        features, logits2 = penultimate(model, x)
        assert features.shape == (2, 64) and torch.allclose(features, stages[-1].mean((2, 3)), atol=1e-6)
        assert torch.allclose(logits2, logits, atol=1e-6)
    assert classifier(model) is model.fc and model.fc.in_features == 64


def test_option_a_shortcut_pads_zero_channels_and_subsamples():
    block = create_model("resnet20", 10).layer2[0]
    x = torch.randn(1, 16, 32, 32)
    short = block.shortcut(x)
    assert short.shape == (1, 32, 16, 16)
    assert torch.equal(short[:, :16], x[:, :, ::2, ::2]) and not short[:, 16:].any()
    same = create_model("resnet20", 10).layer1[1]
    assert same.shortcut(x) is x
