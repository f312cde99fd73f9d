"""Plans of the artefacts and the paper-beside-ours tables (issue 7)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from focuslib import experiments, report


def test_table2_paper_plan_matches_the_protocol():
    cells = experiments.plan("table2", {"profile": "paper", "dataset": "mnist"})
    assert {c.row for c in cells} == {"ce", "dropmax", "focusnet"} and len(cells) == 3 * 5
    fn = next(c for c in cells if c.row == "focusnet" and c.seed == 3)
    cfg = fn.config
    assert (cfg.model, cfg.epochs, cfg.milestones, cfg.batch_size, cfg.lr, cfg.weight_decay) == (
        "lenet5", 200, (100, 150), 128, 0.1, 1e-4)
    # FocusNet's baseline is the ce run of the same seed: the very config of that cell.
    ce = next(c for c in cells if c.row == "ce" and c.seed == 3)
    assert cfg.teacher == ce.config


def test_90_epoch_schedule_and_short_runs_keep_proportions():
    tiny = experiments.plan("table7", {"profile": "paper", "dataset": "tinyimagenet", "seeds": [0]})
    assert {(c.config.epochs, c.config.milestones) for c in tiny} == {(90, (30, 60))}
    short = experiments.plan("table2", {"profile": "smoke", "epochs": 8, "seeds": [0]})
    assert {c.config.milestones for c in short} == {(4, 6)}  # 1/2 and 3/4 of 8 epochs


def test_table9_teacher_is_a_poorly_trained_mobilenet():
    cells = experiments.plan("table9", {"profile": "paper", "dataset": "cub200", "seeds": [0]})
    kd = next(c for c in cells if c.row == "dereverse_kd")
    t = kd.config.teacher
    assert (t.model, t.epochs, t.milestones, t.method) == ("mobilenetv2_x0_5", 50, (), "ce")
    assert kd.config.model == "resnet18"


def test_table10_rows_switch_the_loss_terms():
    cells = experiments.plan("table10", {"profile": "paper", "dataset": "cub200", "seeds": [0]})
    kw = {c.row: c.config.method_kwargs for c in cells}
    assert kw["lcls"] == {"use_att": False, "use_ent": False}
    assert kw["lcls+rent"] == {"use_att": False, "use_ent": True}
    assert kw["lcls+ratt+rent"] == {} and cells[0].config.method == "ce"


def test_fig4_stops_without_lr_decay():
    cells = experiments.plan("fig4", {"profile": "paper", "dataset": "stanford_dogs", "seeds": [0]})
    stops = sorted(c.x for c in cells if c.row == "teacher")
    assert stops == [1, 10, 20, 30, 40, 50, 60]
    assert all(c.config.milestones == () for c in cells if c.row == "teacher")


def test_unknown_plan_and_profile_are_clear_errors():
    with pytest.raises(ValueError, match="no plan for 'table11'"):
        experiments.plan("table11", {})
    with pytest.raises(ValueError, match="unknown profile 'fast'.*known profiles: paper, smoke"):
        experiments.plan("table2", {"profile": "fast"})


def _runs(values: dict[tuple[str, int], float], dataset="cub200", profile="paper") -> pd.DataFrame:
    return pd.DataFrame([{"row": r, "dataset": dataset, "model": "resnet18", "seed": s, "x": None, "profile": profile,
                          "epochs": 200, "key": f"{r}{s}", "test_top1": v} for (r, s), v in values.items()])


def test_summary_and_comparison_with_the_paper():
    runs = _runs({("ce", 0): 50.0, ("ce", 1): 52.0, ("focusnet", 0): 60.0})
    table = report.compare(2, runs).set_index("method")
    # mean of 50 and 52 is 51, sample std sqrt(((-1)^2 + 1^2) / 1) = 1.414...
    assert table.loc["Baseline", "ours"] == "51.00 ± 1.41 (n=2)"
    assert table.loc["Baseline", "paper"] == 50.29  # Table 2, CUB-200
    assert math.isclose(table.loc["Baseline", "ours − paper"], 0.71)
    assert table.loc["FocusNet (Ours)", "ours"] == "60.00 (n=1)" and table.loc["FocusNet (Ours)", "profile"] == "full protocol"


def test_a_stand_in_data_set_is_never_compared_with_the_paper():
    table = report.compare(2, _runs({("ce", 0): 90.0}, dataset="digits", profile="smoke"))
    assert table["paper"].isna().all() and table["ours − paper"].isna().all()
    assert table["profile"].iloc[0].startswith("smoke")
    assert "not compared with the paper" in report.describe(table)


def test_paired_gain_is_per_seed():
    runs = _runs({("ce", 0): 50.0, ("focusnet", 0): 53.5, ("ce", 1): 52.0, ("focusnet", 1): 51.0})
    gains = report.paired_gains(runs).set_index("seed")["gain"]
    assert gains.to_dict() == {0: 3.5, 1: -1.0}


def test_status_marks_missing_data(tmp_path):
    status = report.status(results_dir=str(tmp_path / "empty"), data_root=str(tmp_path / "nodata"))
    assert len(status) == len(status.drop_duplicates(["table", "method", "data set", "model"]))
    cub = status[(status["data set"] == "cub200")]
    assert (cub["status"] == "needs data not present").all()
    assert set(status["table"]) == {"2", "3", "5", "7", "8", "9", "10"}


def test_cskd_uses_its_official_per_data_set_preset():
    cells = experiments.plan("table7", {"profile": "paper", "dataset": ["cub200", "cifar100"], "seeds": [0]})
    cskd = {c.dataset: c.config for c in cells if c.row == "cskd"}
    assert (cskd["cub200"].method_kwargs, cskd["cub200"].batch_size) == ({"lam": 3.0}, 32)
    assert (cskd["cifar100"].method_kwargs, cskd["cifar100"].batch_size) == ({"lam": 1.0}, 128)


def test_best_on_test_is_reported_beside_the_final_epoch():
    curve = pd.DataFrame({"row": "ce", "dataset": "mnist", "model": "lenet5", "seed": 0,
                          "epoch": [1, 2, 3], "test_top1": [97.0, 99.1, 98.5]})
    out = report.best_on_test(curve).iloc[0]
    assert (out["final"], out["best on test (not a result)"], out["best epoch"]) == (98.5, 99.1, 2)


def test_per_seed_table_keeps_every_seed():
    runs = _runs({("ce", 0): 99.0, ("ce", 1): 11.35, ("focusnet", 0): 99.4}, dataset="mnist")
    table = report.per_seed(runs)
    assert table.loc[("mnist", "resnet18", 1), "ce"] == 11.35  # a seed at chance is shown, not dropped
    assert len(table) == 2


def test_a_missing_data_set_stops_with_its_preparation_message(tmp_path):
    from focuslib.datasets import DatasetNotFoundError

    with pytest.raises(DatasetNotFoundError, match=r"cub200(.|\n)*How to get it(.|\n)*CUB_200_2011"):
        experiments.require_data(["digits", "cub200"], data_root=str(tmp_path))
