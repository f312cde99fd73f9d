"""focuslib.complexity: parameter and FLOP counts against hand arithmetic, and the Table 4 frame."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from torch import nn

from focuslib import paper
from focuslib.complexity import (
    ModelSpec,
    complexity_table,
    count_call_flops,
    count_flops,
    count_macs,
    count_parameters,
    flops_by_setting,
    table4_frame,
)
from focuslib.models import create_model


def test_linear_flops_by_hand():
    # 5 inputs x 3 outputs = 15 multiply-accumulates = 30 FLOPs; the bias is not charged.
    layer = nn.Linear(5, 3)
    assert count_flops(layer, (5,)) == 30
    assert count_macs(layer, (5,)) == 15


def test_conv_flops_by_hand():
    # 3x3 conv, 3 -> 8 channels, padding 1 on 10x10: 8*10*10 = 800 outputs x 3*9 = 27 MACs = 21,600 MACs.
    assert count_flops(nn.Conv2d(3, 8, 3, padding=1), (3, 10, 10)) == 2 * 21_600


def test_depthwise_conv_flops_by_hand():
    # 3x3 depthwise on 4x6x6, no padding: 4*4*4 = 64 outputs x 9 MACs = 576 MACs.
    assert count_macs(nn.Conv2d(4, 4, 3, groups=4, bias=False), (4, 6, 6)) == 576


def test_small_resnet18_flops_by_hand():
    # MACs at 32x32, 200 classes: stem 32*32*64*27 = 1,769,472; layer1 4 * 32*32*64*576 = 150,994,944;
    # layers 2-4 each: strided 3x3 18,874,368 + three 3x3 113,246,208 + 1x1 shortcut 2,097,152
    # = 134,217,728, times 3 = 402,653,184; fc 512*200 = 102,400. Total 555,520,000 MACs.
    model = create_model("resnet18", 200, small_input=True)
    assert count_flops(model, (3, 32, 32)) == 2 * 555_520_000


def test_resnet18_imagenet_matches_he_et_al():
    # He et al. (2016) Table 1: ResNet-18 costs 1.8e9 multiply-adds at 224x224.
    assert 1.75e9 < count_macs(create_model("resnet18", 1000), (3, 224, 224)) < 1.85e9


def test_count_call_flops():
    a, b = torch.randn(2, 3), torch.randn(3, 4)
    assert count_call_flops(torch.matmul, a, b) == 2 * 2 * 3 * 4


def test_count_flops_keeps_modes_and_needs_a_shape():
    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout())
    model.train()
    model[2].eval()
    count_flops(model, (4,))  # BatchNorm1d would reject a batch of one in training mode
    assert [m.training for m in model.modules()] == [True, True, True, False]
    with pytest.raises(ValueError, match="input_size"):
        count_flops(model, ())
    with pytest.raises(ValueError, match="input_size"):
        count_flops(model, (0,))


def test_count_parameters_several_modules():
    a, b = nn.Linear(4, 3), nn.Linear(3, 2)  # 4*3+3 = 15 and 3*2+2 = 8
    assert count_parameters(a) == 15
    assert count_parameters(a, b) == 23
    assert count_parameters(a, nn.Sequential(a, b)) == 23  # shared parameters once
    b.bias.requires_grad_(False)
    assert count_parameters(a, b, trainable_only=True) == 21
    with pytest.raises(ValueError):
        count_parameters()


def test_complexity_table_columns():
    frame = complexity_table([ModelSpec("LeNet-5", "lenet5", 10, 28, in_channels=1)])
    row = frame.iloc[0]
    assert row["params"] == 61_706  # see tests/test_models.py
    assert row["flops"] == 2 * row["macs"] and math.isclose(row["GFLOPs"], row["flops"] / 1e9)


def _fake_paper(values: dict[str, tuple[float, float]]) -> pd.DataFrame:
    return pd.DataFrame([dict(model=m, metric=metric, value=v) for m, pair in values.items()
                         for metric, v in zip(("params_m", "flops_g"), pair)])


def test_table4_frame_arithmetic():
    fake = _fake_paper({"resnet18": (11.0, 1.0), "resnet34": (20.0, 2.0)})
    frame = table4_frame(fake, num_classes=200, image_size=32)
    r18 = frame.loc["ResNet-18"]
    # 11,271,432 parameters (tests/test_models.py) and 1.11104 GFLOPs at 32x32 (hand count above).
    assert math.isclose(r18["Params diff (M)"], 11.271432 - 11.0)
    assert math.isclose(r18["FLOPs (G) ours"], 1.11104)
    assert math.isclose(r18["FLOPs ours/paper"], 1.11104)
    assert math.isnan(frame.loc["MobileNetV2", "FLOPs (G) paper"])  # missing in the fake paper
    assert list(frame.index) == ["MobileNetV2", "ResNet-18", "ResNet-34"]


def test_table4_frame_without_the_paper():
    frame = table4_frame(None, image_size=32)
    assert frame[["Params (M) paper", "FLOPs (G) paper"]].isna().all().all()
    assert math.isclose(frame.loc["ResNet-18", "Params (M) ours"], 11.271432)


def test_table4_frame_rejects_a_malformed_paper_table():
    with pytest.raises(ValueError, match="model, metric and value"):
        table4_frame(pd.DataFrame({"row": ["x"], "value": [1.0]}), image_size=32)


def test_table4_against_the_paper():
    # What the notebook states: parameters within the paper's rounding; ResNet FLOPs within 1 %
    # at 64x64; MobileNetV2 with the paper's stride change far above the printed FLOPs.
    frame = table4_frame(paper.table(4))
    assert (frame["Params diff (M)"].abs() <= 0.005).all()
    assert (frame.loc[["ResNet-18", "ResNet-34"], "FLOPs ours/paper"] - 1).abs().max() < 0.01
    assert frame.loc["MobileNetV2", "FLOPs ours/paper"] > 5


def test_flops_by_setting_unmodified_mobilenet_reproduces_the_print():
    table = flops_by_setting(paper.table(4), image_sizes=(64,))
    unmodified = table.loc[("MobileNetV2", "unmodified (down-sampling 32)", 64)]
    assert round(unmodified["GFLOPs"], 2) == unmodified["paper FLOPs (G)"]


def test_table6_counts_match_the_paper_under_the_inferred_conventions():
    from focuslib import paper
    from focuslib.complexity import table6_frame

    table = table6_frame(paper.table(6))
    assert len(table) == 9 and table["Params paper (M)"].notna().all()
    # Every row's parameter count, counted as the paper evidently counted it, rounds to the printed value.
    assert (table["Params diff (M)"].abs() < 0.005).all(), table["Params diff (M)"]
    # Training-time counts include what the paper leaves out: ONE's two extra branches and gate.
    assert table.loc["ONE", "Params training (M)"] > 2 * table.loc["ONE", "Params deployed (M)"]
    # DDGSD and CS-KD forward two images per labelled image during training.
    for name in ("DDGSD", "CS-KD"):
        assert abs(table.loc[name, "FLOPs training / image (G)"] / table.loc[name, "FLOPs deployed (G)"] - 2) < 1e-6
