"""Checks of focuslib.paper against values typed here independently from the paper's text.

Every expected number below was re-read from /work/shared/paper/focusnet-2022.txt for this test;
the cross-table checks rely on the paper reusing the same runs in several tables, so a typo in one
place breaks an equality.
"""

from __future__ import annotations

import dataclasses

import pytest

from focuslib import paper
from focuslib.paper import PaperNumber, lookup, numbers, table

# Expected printed layout: (rows, columns) per table, counted in the paper.
SHAPES = {"1": (9, 3), "2": (3, 8), "3": (4, 2), "4": (2, 3), "5": (4, 7), "6": (2, 9),
          "7": (11, 5), "8": (6, 2), "9": (4, 7), "10": (5, 2), "fig4": (1, 2)}


@pytest.mark.parametrize("name", list(SHAPES))
def test_every_table_has_its_printed_rows_and_columns(name: str) -> None:
    rows, cols = SHAPES[name]
    df = table(name)
    assert len(df) == rows * cols
    assert df["column"].nunique() == cols
    assert set(df.groupby("column").size()) == {rows}  # every printed column is filled in every row


def test_table_names_are_exactly_the_shapes_listed_here() -> None:
    assert set(paper.TABLES) == set(SHAPES)
    assert len(numbers()) == sum(r * c for r, c in SHAPES.values())  # 27+24+8+6+28+18+55+12+28+10+2 = 218


@pytest.mark.parametrize("tab, method, dataset, metric, model, expected", [
    ("2", "focusnet", "cub200", "top1", None, 63.43),
    ("2", "dropmax", "mnist", "top1", "lenet5", 99.43),
    ("2", "ce", "imagenet_dogs", "top1", None, 70.76),
    ("3", "focusnet", "imagenet", "top5", "resnet34", 91.89),
    ("5", "kd", "imagenet_dogs", "top1", "mobilenetv2_x0_5", 64.20),
    ("5", "student", "cub200", "top1", None, 52.71),
    ("7", "ourloss_frskd", "cub200", "top1", None, 67.19),
    ("7", "frskd_nofeat", "stanford_dogs", "top1", None, 69.48),
    ("7", "slasd", "tinyimagenet", "top1", None, 60.81),
    ("8", "frskd", "imagenet", "top5", "resnet18", 89.78),
    ("9", "teacher", "imagewoof", "top1", "mobilenetv2_x0_5", 41.33),
    ("9", "dereverse_kd", "cifar100", "top1", None, 46.22),
    ("10", "lcls", "stanford_dogs", "top1", None, 64.07),
    ("fig4", "teacher", "cub200", "top1", "resnet18", 1.29),
    ("fig4", "teacher", "stanford_dogs", "top1", None, 1.22),
    ("1", None, "imagewoof", "num_val", None, 3929),
    ("1", None, "imagenet", "num_train", None, 1_281_167),
    ("4", None, None, "params_m", "resnet34", 21.38),
    ("6", "frskd", None, "flops_g", None, 7.62),
    ("6", "byot", None, "params_m", None, 12.49),
])
def test_spot_checks(tab: str, method: str | None, dataset: str | None, metric: str,
                     model: str | None, expected: float) -> None:
    assert lookup(tab, method, dataset, metric=metric, model=model) == expected


def test_table10_rows_follow_their_check_marks() -> None:
    # Printed row 3 has checks under L_cls and R_entropy; row 4 under L_cls and R_attention.
    assert lookup(10, "lcls+rent", "cub200") == 61.10
    assert lookup(10, "lcls+rent", "stanford_dogs") == 68.76
    assert lookup(10, "lcls+ratt", "cub200") == 61.27
    assert lookup(10, "lcls+ratt", "stanford_dogs") == 67.21
    assert table(10)["method"].drop_duplicates().tolist() == [
        "ce", "lcls", "lcls+rent", "lcls+ratt", "lcls+ratt+rent"]  # printed order


def test_table3_printed_differences_equal_focusnet_minus_baseline() -> None:
    # The parenthesised numbers of Table 3, typed here: 70.42-69.76 = 0.66, 89.56-89.08 = 0.48,
    # 74.35-73.31 = 1.04, 91.89-91.42 = 0.47.
    printed = {("resnet18", "top1"): 0.66, ("resnet18", "top5"): 0.48,
               ("resnet34", "top1"): 1.04, ("resnet34", "top5"): 0.47}
    for (model, metric), delta in printed.items():
        gain = lookup(3, "focusnet", "imagenet", metric, model) - lookup(3, "ce", "imagenet", metric, model)
        assert round(gain, 2) == delta, (model, metric)


def test_reused_baseline_runs_agree_across_tables() -> None:
    # The ResNet-18 cross-entropy baseline is printed in Tables 2, 5 (teacher), 7, 9 (student) and 10.
    assert lookup(2, "ce", "cub200") == 50.29
    same_run = [(2, "ce"), (5, "teacher"), (7, "ce"), (9, "student"), (10, "ce")]
    for dataset in sorted(set(table(5)["dataset"])):  # Table 2's columns less MNIST (LeNet-5)
        values = {(t, m): lookup(t, m, dataset, model="resnet18")
                  for t, m in same_run if dataset in set(table(t)["dataset"])}
        assert len(set(values.values())) <= 1, (dataset, values)
    assert {lookup(t, m, "cub200", model="resnet18") for t, m in same_run} == {50.29}
    assert {lookup(t, m, "stanford_dogs", model="resnet18") for t, m in same_run} == {63.32}


def test_reused_focusnet_runs_agree_across_tables() -> None:
    for dataset in ("cifar100", "cub200", "stanford_dogs", "tinyimagenet", "imagenet_dogs"):
        assert lookup(2, "focusnet", dataset) == lookup(7, "focusnet", dataset), dataset
    for dataset in ("cub200", "stanford_dogs"):
        assert lookup(2, "focusnet", dataset) == lookup(10, "lcls+ratt+rent", dataset), dataset
    for method in ("ce", "focusnet"):  # Table 8 repeats Table 3's rows
        for model in ("resnet18", "resnet34"):
            for metric in ("top1", "top5"):
                cell = (method, "imagenet", metric, model)
                assert lookup(3, *cell) == lookup(8, *cell), cell


def test_complexity_tables_agree_with_each_other_and_the_text() -> None:
    # Sec. 4.2: MobileNetV2 (0.94 M parameters, 0.02 G FLOPs), ResNet-18 (11.27 M, 4.46 G).
    assert lookup(4, None, None, "params_m", "mobilenetv2_x0_5") == 0.94
    assert lookup(4, None, None, "flops_g", "mobilenetv2_x0_5") == 0.02
    for metric, value in (("params_m", 11.27), ("flops_g", 4.46)):
        assert lookup(4, None, None, metric, "resnet18") == value
        for method in ("ce", "ddgsd", "cskd", "tfkd", "one", "focusnet"):  # same size as the baseline
            assert lookup(6, method, None, metric) == value, method


def test_table1_agrees_with_section_4_1() -> None:
    # Stanford Dogs: 20,580 images = 12,000 + 8,580; Tiny ImageNet: 200 classes x 500 / x 50 images.
    dogs = lookup(1, None, "stanford_dogs", "num_train") + lookup(1, None, "stanford_dogs", "num_val")
    assert dogs == 20_580
    assert lookup(1, None, "tinyimagenet", "num_train") == 200 * 500
    assert lookup(1, None, "tinyimagenet", "num_val") == 200 * 50
    assert lookup(1, None, "imagenet_dogs", "num_classes") == 118


def test_claims_of_the_text_hold_on_the_typed_numbers() -> None:
    t2 = table(2).pivot(index="method", columns="dataset", values="value")
    # Sec. 4.3.1: DropMax and FocusNet beat the baseline everywhere, FocusNet beats DropMax.
    assert (t2.loc["dropmax"] > t2.loc["ce"]).all() and (t2.loc["focusnet"] > t2.loc["dropmax"]).all()
    # Sec. 4.3.2: OurLoss+FRSKD is best on every Table 7 data set.
    t7 = table(7).pivot(index="method", columns="dataset", values="value")
    assert (t7.idxmax() == "ourloss_frskd").all()
    # ... and FocusNet beats every other method on CIFAR-100, Stanford Dogs and Tiny ImageNet.
    rest = t7.drop(index="ourloss_frskd")
    assert (rest[["cifar100", "stanford_dogs", "tinyimagenet"]].idxmax() == "focusnet").all()


def test_long_form_columns_and_sources() -> None:
    df = table("Table 7")
    assert list(df.columns)[:10] == ["table", "row", "method", "column", "dataset", "model", "metric",
                                     "value", "unit", "source"]
    row = df[(df.method == "frskd_nofeat") & (df.dataset == "cub200")].iloc[0]
    assert row["row"] == "FRSKD\\F [18]" and row["column"] == "CUB-200" and row["unit"] == "%"
    assert row["source"] == "Table 7, row 'FRSKD\\F [18]', column 'CUB-200'"
    assert table(7).equals(table("7"))
    assert table("Fig. 4").equals(table("fig4"))
    assert "not printed as numbers" in table("fig4")["note"].iloc[0]
    assert paper.SOURCE == "Zhang, Sheng, Shen, FocusNet, Pattern Recognition 129 (2022) 108709"


def test_machine_keys_are_unique() -> None:
    keys = [(n.table, n.method, n.dataset, n.model, n.metric) for n in numbers()]
    assert len(keys) == len(set(keys))


def test_lookup_errors_say_what_exists() -> None:
    with pytest.raises(KeyError, match=r"Table 2 has no cell with method='frskd'.*ce, dropmax, focusnet"):
        lookup(2, "frskd", "cub200")
    with pytest.raises(KeyError, match=r"2 cells .*pass model.*resnet18, resnet34"):
        lookup(3, "focusnet", "imagenet")
    with pytest.raises(KeyError, match=r"no table 11\. Known: 1, 2, .*fig4"):
        table(11)
    with pytest.raises(KeyError, match=r"metric: top1, top5"):
        lookup(8, "ce", "imagenet", metric="top3", model="resnet18")


def test_paper_numbers_reject_unknown_keys_and_are_frozen() -> None:
    with pytest.raises(ValueError, match="dataset='cub'"):
        PaperNumber("2", "Baseline", "CUB-200", 50.29, "%", dataset="cub")
    number = numbers()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        number.value = 0.0  # type: ignore[misc]
