"""Plans of the artefacts and the paper-beside-ours tables (issue 7)."""

from __future__ import annotations

import inspect
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from focuslib import experiments, report
from focuslib.config import RunConfig
from focuslib.methods import non_default_hparams


def changed_hparams(cfg: RunConfig) -> dict:
    """What a planned run sets apart from its method's defaults (the config holds them all)."""
    return non_default_hparams(cfg.method, cfg.method_kwargs)


def test_table2_paper_plan_matches_the_protocol():
    cells = experiments.plan("table2", {"profile": "paper", "dataset": "mnist", "variants": []})
    assert {c.row for c in cells} == {"ce", "dropmax", "focusnet"} and len(cells) == 3 * 5
    fn = next(c for c in cells if c.row == "focusnet" and c.seed == 3)
    cfg = fn.config
    assert (cfg.model, cfg.epochs, cfg.milestones, cfg.batch_size, cfg.lr, cfg.weight_decay) == (
        "lenet5", 200, (100, 150), 128, 0.1, 1e-4)
    # FocusNet's baseline is the ce run of the same seed: the very config of that cell.
    ce = next(c for c in cells if c.row == "ce" and c.seed == 3)
    assert cfg.teacher == ce.config


def test_post_hoc_variants_run_on_the_same_baselines():
    cells = experiments.plan("table2", {"profile": "paper", "dataset": ["mnist", "cifar10"], "seeds": [0, 1]})
    variants = [c for c in cells if c.row in experiments.FOCUSNET_VARIANTS]
    # params/paper.yaml asks for these two variants on MNIST only
    assert {(c.row, c.dataset, c.seed) for c in variants} == {
        (v, "mnist", s) for v in ("focusnet[d_attached]", "focusnet[official_labels]") for s in (0, 1)}
    ce = {c.seed: c.config for c in cells if c.row == "ce" and c.dataset == "mnist"}
    for c in variants:
        assert c.config.method == "focusnet" and c.config.teacher == ce[c.seed]
    kw = {c.row: changed_hparams(c.config) for c in variants}
    assert kw["focusnet[d_attached]"] == {"detach_d": False}
    assert kw["focusnet[official_labels]"] == {"warm_rule": "official", "label_smoothing": 0.1}
    with pytest.raises(ValueError,
                       match=r"unknown FocusNet variant\(s\) \['focusnet\[x\]'\]; known: focusnet\[d_attached\]"):
        experiments.plan("table2", {"profile": "paper", "dataset": "mnist", "variants": ["focusnet[x]"]})


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
    kw = {c.row: changed_hparams(c.config) for c in cells}
    assert kw["lcls"] == {"use_att": False, "use_ent": False}
    assert kw["lcls+rent"] == {"use_att": False}  # use_ent=True is FocusNet's default
    assert kw["lcls+ratt+rent"] == {} and cells[0].config.method == "ce"


def test_fig4_stops_without_lr_decay():
    cells = experiments.plan("fig4", {"profile": "paper", "dataset": "stanford_dogs", "seeds": [0]})
    stops = sorted(c.x for c in cells if c.row == "teacher")
    assert stops == [1, 10, 20, 30, 40, 50, 60]
    assert all(c.config.milestones == () for c in cells if c.row == "teacher")
    # on MNIST our addition: the seed's initialised network as a 0-epoch baseline, FocusNet on it
    mnist = experiments.plan("fig4", {"profile": "paper", "dataset": "mnist", "seeds": [0]})
    assert sorted(c.x for c in mnist if c.row == "teacher") == [0, 1, 10, 20, 30, 40, 50, 60]
    zero = next(c for c in mnist if c.row == "focusnet_on_teacher" and c.x == 0)
    assert (zero.config.teacher.epochs, zero.config.teacher.milestones, zero.config.epochs) == (0, (), 200)


def test_unknown_plan_and_profile_are_clear_errors():
    with pytest.raises(ValueError, match="no plan for 'table11'"):
        experiments.plan("table11", {})
    with pytest.raises(ValueError, match="unknown profile 'fast'.*known profiles: paper, reduced, smoke"):
        experiments.plan("table2", {"profile": "fast"})


def _runs(values: dict[tuple[str, int], float], dataset="cub200", profile="paper") -> pd.DataFrame:
    return pd.DataFrame([{"row": r, "dataset": dataset, "model": "resnet18", "seed": s, "x": None, "profile": profile,
                          "epochs": 200, "key": f"{r}{s}", "test_top1": v} for (r, s), v in values.items()])


def _mnist_runs_with_curves(tmp_path: Path, values: dict[tuple[str, int], float], train_loss: float) -> pd.DataFrame:
    """LeNet-5/MNIST runs as :func:`_runs` makes them, each with a one-epoch ``metrics.jsonl``
    ending at its final accuracy (the curve the health check reads)."""
    import json

    runs = _runs(values, dataset="mnist").assign(model="lenet5")
    run_dirs = []
    for key, final in zip(runs["key"], runs["test_top1"]):
        d = tmp_path / key
        d.mkdir()
        row = {"epoch": 1, "train_loss": train_loss, "test_top1": final}
        d.joinpath("metrics.jsonl").write_text(json.dumps(row) + "\n")
        run_dirs.append(str(d))
    return runs.assign(run_dir=run_dirs)


def test_summary_and_comparison_with_the_paper():
    runs = _runs({("ce", 0): 50.0, ("ce", 1): 52.0, ("focusnet", 0): 60.0})
    table = report.compare(2, runs).set_index("method")
    # mean of 50 and 52 is 51, sample std sqrt(((-1)^2 + 1^2) / 1) = 1.414...
    assert table.loc["Baseline", "ours"] == "51.00 ± 1.41 (n=2)"
    assert table.loc["Baseline", "paper"] == 50.29  # Table 2, CUB-200
    assert math.isclose(table.loc["Baseline", "ours − paper"], 0.71)
    assert table.loc["FocusNet (Ours)", "ours"] == "60.00 (n=1)"
    assert table.loc["FocusNet (Ours)", "profile"] == "full protocol"


def test_a_stand_in_data_set_is_never_compared_with_the_paper():
    table = report.compare(2, _runs({("ce", 0): 90.0}, dataset="digits", profile="smoke"))
    assert table["paper"].isna().all() and table["ours − paper"].isna().all()
    assert table["profile"].iloc[0].startswith("smoke")
    assert "not compared with the paper" in report.describe(table)


def test_paired_gain_is_per_seed():
    runs = _runs({("ce", 0): 50.0, ("focusnet", 0): 53.5, ("ce", 1): 52.0, ("focusnet", 1): 51.0})
    gains = report.paired_gains(runs).set_index("seed")["gain"]
    assert gains.to_dict() == {0: 3.5, 1: -1.0}


def test_paired_gains_say_whether_both_runs_trained_and_gains_use_only_those_pairs():
    # MNIST chance is 10 %: 11.35 is a run that did not train (<= 15 %)
    runs = _runs({("ce", 0): 99.0, ("focusnet", 0): 99.2, ("ce", 1): 98.8, ("focusnet", 1): 98.7,
                  ("ce", 2): 11.35, ("focusnet", 2): 99.1}, dataset="mnist")
    pairs = report.paired_gains(runs).set_index("seed")
    assert pairs["both trained"].to_dict() == {0: True, 1: True, 2: False}
    assert math.isnan(pairs.loc[2, "gain"]) and pairs.loc[2, "ce"] == 11.35  # no +87.75 "gain"; both runs shown
    g = report.gains(runs, ["focusnet"]).iloc[0]
    # seeds 0, 1: gains +0.2, -0.1 (mean 0.05, std 0.2121); seed 2 left out, not a +87.75 gain
    assert g["paired gain"] == "0.05 ± 0.21 (n=2)" and g["seeds gaining"] == "1/2 (1 left out)"
    assert g["baseline, same seeds"] == "98.90 ± 0.14 (n=2)"


def test_gains_over_compares_each_term_with_the_row_without_it():
    # Table 10's claim: R_ent adds to L_cls alone, paired by seed; the paper's CUB-200 numbers are
    # 61.10 (L_cls + R_entropy) and 56.82 (L_cls): a paper gain of +4.28.
    runs = _runs({("ce", 0): 50.0, ("lcls", 0): 57.0, ("lcls+rent", 0): 61.0,
                  ("ce", 1): 51.0, ("lcls", 1): 56.0, ("lcls+rent", 1): 60.0,
                  ("ce", 2): 50.5, ("lcls", 2): 0.3, ("lcls+rent", 2): 62.0})  # L_cls seed 2 did not train
    out = report.gains_over(runs, [("lcls", "ce"), ("lcls+rent", "lcls")], table=10).set_index("comparison")
    assert list(out.index) == ["lcls − ce", "lcls+rent − lcls"]
    rent = out.loc["lcls+rent − lcls"]
    # seeds 0, 1: +4.0 and +4.0 over L_cls; seed 2 left out (its L_cls run is at chance)
    assert rent["paired gain"] == "4.00 ± 0.00 (n=2)" and rent["seeds gaining"] == "2/2 (1 left out)"
    assert rent["other, same seeds"] == "56.50 ± 0.71 (n=2)"
    assert rent["paper gain"] == pytest.approx(4.28)
    assert out.loc["lcls − ce", "paper gain"] == pytest.approx(6.53)  # 56.82 - 50.29


def test_status_marks_missing_data(tmp_path):
    status = report.status(results_dir=str(tmp_path / "empty"), data_root=str(tmp_path / "nodata"))
    assert len(status) == len(status.drop_duplicates(["table", "method", "data set", "model"]))
    cub = status[(status["data set"] == "cub200")]
    assert (cub["status"] == "needs data not present").all()
    assert set(status["table"]) == {"2", "3", "5", "7", "8", "9", "10"}


def test_cskd_uses_its_official_per_data_set_preset():
    cells = experiments.plan("table7", {"profile": "paper", "dataset": ["cub200", "cifar100"], "seeds": [0]})
    cskd = {c.dataset: c.config for c in cells if c.row == "cskd"}
    assert (cskd["cub200"].method_kwargs["lam"], cskd["cub200"].batch_size) == (3.0, 32)
    assert (cskd["cifar100"].method_kwargs["lam"], cskd["cifar100"].batch_size) == (1.0, 128)


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


def test_variants_are_kept_out_of_the_paper_table_and_compared_by_paired_gain():
    runs = _runs({("ce", 0): 50.0, ("ce", 1): 52.0, ("focusnet", 0): 51.0, ("focusnet", 1): 51.0,
                  ("focusnet[d_attached]", 0): 53.0, ("focusnet[d_attached]", 1): 51.5})
    assert "focusnet[d_attached]" not in set(report.compare(2, runs)["method"])
    g = report.gains(runs, ["focusnet", "focusnet[d_attached]"]).set_index("method")
    # gains per seed: focusnet +1, -1; variant +3, -0.5 (mean 1.25, std sqrt(2 * 1.75^2) = 2.47)
    assert g.loc["focusnet", "paired gain"] == "0.00 ± 1.41 (n=2)" and g.loc["focusnet", "seeds gaining"] == "1/2"
    assert g.loc["focusnet[d_attached]", "paired gain"] == "1.25 ± 2.47 (n=2)"
    # both compared with the paper's FocusNet on CUB-200 (Table 2: 63.43, baseline 50.29)
    assert (g["paper"] == 63.43).all() and (g["paper gain"] == 13.14).all()


def test_profile_differences_and_their_statement():
    table = pd.DataFrame({"profile": ["full protocol", "full protocol", "full protocol", "smoke", "later"],
                          "method": ["Baseline", "DropMax [8]", "FocusNet (Ours)", "Baseline", "Baseline"],
                          "data set": ["mnist", "mnist", "cifar10", "digits", "mnist"],
                          "paper": [99.31, 99.43, 95.0, np.nan, 99.31],
                          "ours − paper": [-0.4, 1.2, -2.5, np.nan, np.nan]})
    d = report.profile_differences(table).set_index("profile")
    assert d["compared"].tolist() == [3, 0, 0] and d["smoke"].tolist() == [False, True, False]
    assert d.loc["full protocol", "mean difference"] == pytest.approx((-0.4 + 1.2 - 2.5) / 3)
    assert d.loc["full protocol", ["largest difference", "largest method", "largest data set"]].tolist() == [
        -2.5, "FocusNet (Ours)", "cifar10"]
    assert report.describe(table) == (
        "- **full protocol**: 3 cells compared; mean difference ours − paper -0.57 points, largest -2.50 "
        "(FocusNet (Ours), cifar10).\n"
        "- **smoke**: 1 cells ran on a stand-in data set with a few epochs; they show that the pipeline works and "
        "are not compared with the paper.\n"
        "- **later**: no cell has both a paper number and a finished run yet.")
    assert report.describe(table.iloc[0:0]) == "- No results yet."


def test_ordering_statement_says_when_the_papers_ranking_fails():
    runs = _runs({("ce", 0): 99.2, ("ce", 1): 99.0, ("focusnet", 0): 99.0, ("focusnet", 1): 98.9}, dataset="mnist")
    runs["model"] = "lenet5"
    [o] = report.orderings(runs)
    assert o.paper == (("ce", 99.31), ("focusnet", 99.56)) and not o.holds and o.not_run == ("dropmax",)
    # gains per seed -0.2, -0.1: mean -0.15, std 0.07
    assert (o.gain, o.gain_std, o.gaining, o.paper_gain) == (pytest.approx(-0.15), pytest.approx(0.5 ** 0.5 / 10),
                                                              0, 0.25)
    text = report.describe_ordering(runs)
    assert "does not hold (ours, low to high: FocusNet (Ours) < Baseline)" in text
    assert "-0.15 ± 0.07 (n=2), 0/2 seeds gaining; the paper's gain: +0.25" in text
    assert "Not run yet: DropMax" in text
    runs.loc[runs["row"] == "focusnet", "test_top1"] += 1.0
    assert "(low to high: Baseline < FocusNet (Ours)) holds." in report.describe_ordering(runs)


def test_health_flags_diverged_and_chance_runs(tmp_path):
    import json

    def run(name, losses, accs):
        d = tmp_path / name
        d.mkdir()
        d.joinpath("metrics.jsonl").write_text("".join(
            json.dumps({"epoch": i + 1, "train_loss": loss, "test_top1": acc}) + "\n"
            for i, (loss, acc) in enumerate(zip(losses, accs))))
        return str(d)

    nan = float("nan")
    runs = pd.DataFrame([
        {"row": "ce", "dataset": "mnist", "model": "lenet5", "seed": 0, "profile": "paper", "test_top1": 99.0,
         "run_dir": run("ok", [0.3, 0.1], [97.0, 99.0])},
        {"row": "ce", "dataset": "mnist", "model": "lenet5", "seed": 1, "profile": "paper", "test_top1": 9.8,
         "run_dir": run("nan", [0.3, nan], [97.0, 9.8])},
        {"row": "focusnet", "dataset": "mnist", "model": "lenet5", "seed": 0, "profile": "paper", "test_top1": 11.35,
         "run_dir": run("chance", [2.3, 2.3], [11.35, 11.35])},
    ])
    bad = report.health(runs).set_index(["row", "seed"])["problem"]
    assert bad.to_dict() == {("ce", 1): "diverged (non-finite loss from epoch 2)",
                             ("focusnet", 0): "at chance (final 11.35%, chance 10.00%)"}


def test_a_data_set_the_paper_lacks_gets_our_ranking_only():
    runs = _runs({("ce", 0): 99.0, ("lcls", 0): 99.2, ("lcls+ratt+rent", 0): 98.9}, dataset="mnist")
    runs["model"] = "lenet5"
    [o] = report.orderings(runs, table=10, gain_of="lcls+ratt+rent")
    assert o.paper == () and o.not_run == ()  # the paper's table has no numbers here (our addition)
    assert o.ours == (("lcls+ratt+rent", 98.9, 1), ("ce", 99.0, 1), ("lcls", 99.2, 1))
    assert (o.gain_n, o.gaining) == (1, 0) and o.gain == pytest.approx(-0.1) and math.isnan(o.paper_gain)
    # The paper ranks Baseline < L_cls < FocusNet on both CUB-200 and Stanford Dogs: 3 pairs; ours keeps 1.
    a = o.agreement
    assert set(a.pairs) == {("ce", "lcls"), ("ce", "lcls+ratt+rent"), ("lcls", "lcls+ratt+rent")} and a.seeds == 1
    assert a.broken == (("ce", "lcls+ratt+rent"), ("lcls", "lcls+ratt+rent")) and a.trained_seeds == ()
    lcls_only_seed = pd.concat([runs, _runs({("lcls", 1): 90.0}, dataset="mnist").assign(model="lenet5")])
    [o] = report.orderings(lcls_only_seed, table=10, gain_of="lcls+ratt+rent")
    assert (o.agreement.seeds, len(o.agreement.broken)) == (1, 2)  # seed 1 lacks the other rows: left out


def test_pairs_are_counted_again_over_the_seeds_on_which_every_row_trained(tmp_path):
    runs = _mnist_runs_with_curves(tmp_path, {("ce", 0): 99.0, ("lcls", 0): 99.2, ("lcls+ratt+rent", 0): 98.9,
                                              ("ce", 1): 99.0, ("lcls", 1): 11.35, ("lcls+ratt+rent", 1): 99.5},
                                   train_loss=0.1)
    [o] = report.orderings(runs, table=10, gain_of="lcls+ratt+rent")
    # both seeds: means 99.0 / 55.275 / 99.2; seed 0 alone (lcls trained there): 99.0 / 99.2 / 98.9
    assert (o.agreement.seeds, o.agreement.broken) == (2, (("ce", "lcls"),))
    assert o.agreement.trained_seeds == (0,)
    assert o.agreement.trained_broken == (("ce", "lcls+ratt+rent"), ("lcls", "lcls+ratt+rent"))
    assert ("the paper ranks 3 pairs of these rows the same way; over the 2 seed(s) every row here has finished, our "
            "means keep 2 of them (not: Baseline < Ablations (lcls)). Over the 1 seed(s) on which every row trained "
            "(0), they keep 1 of them (not: Baseline < FocusNet (Ours); Ablations (lcls) < FocusNet (Ours)).") in (
        report.describe_ordering(runs, table=10, gain_of="lcls+ratt+rent"))
    [o] = report.orderings(runs[runs["seed"] == 0], table=10, gain_of="lcls+ratt+rent")
    assert o.agreement.trained_seeds == () and len(o.agreement.broken) == 2  # no failure: one count


def test_paper_pairs_keep_only_the_ranking_every_data_set_shares():
    pairs = report.paper_pairs(10)
    # Table 10: L_cls + R_ent is below L_cls + R_att on CUB-200 (61.10 < 61.27) but above it on
    # Stanford Dogs (68.76 > 67.21); every other pair of the five rows keeps its order on both.
    assert ("lcls+rent", "lcls+ratt") not in pairs and ("lcls+ratt", "lcls+rent") not in pairs
    assert len(pairs) == 9 and ("ce", "lcls") in pairs and ("lcls+ratt", "lcls+ratt+rent") in pairs


def test_gain_curve_pairs_seed_and_epoch():
    curve = pd.DataFrame({"row": ["ce", "ce", "focusnet", "focusnet", "ce"], "dataset": "mnist", "model": "lenet5",
                          "seed": [0, 0, 0, 0, 1], "epoch": [1, 2, 1, 2, 1],
                          "test_top1": [97.0, 98.0, 98.5, 97.5, 96.0]})
    g = report.gain_curve(curve)
    assert g[["seed", "epoch", "gain"]].values.tolist() == [[0, 1, 1.5], [0, 2, -0.5]]  # seed 1 has no FocusNet run
    assert g["both trained"].all()
    assert report.gain_curve(curve[curve["row"] == "ce"]).empty


def test_gain_curve_marks_a_seed_whose_baseline_ended_at_chance_and_the_plot_leaves_it_out():
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    # seed 1's baseline ends at 11.35 % (MNIST chance 10 %): its +87 points are no gain of FocusNet
    curve = pd.DataFrame({"row": ["ce", "ce", "focusnet", "focusnet"] * 2, "dataset": "mnist", "model": "lenet5",
                          "seed": [0] * 4 + [1] * 4, "epoch": [1, 2, 1, 2] * 2,
                          "test_top1": [97.0, 98.0, 98.5, 97.5, 11.35, 11.35, 98.0, 98.9]})
    g = report.gain_curve(curve)
    assert g.groupby("seed")["both trained"].all().to_dict() == {0: True, 1: False}
    fig = report.plot_gain_curve(g)
    [legend] = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == "mean over 1 seed(s) where both trained (1 left out: a run did not train)"
    assert max(max(line.get_ydata()) for line in fig.axes[0].get_lines()) < 2  # no +87 line drawn


def test_the_test_curves_show_every_run_then_zoom_on_those_that_trained():
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    epochs = list(range(1, 21))
    rows = [("ce", 0, [90 + e * 0.4 for e in epochs]), ("focusnet[d_attached]", 0, [95 + e * 0.2 for e in epochs]),
            ("ce", 1, [11.35] * 20)]  # seed 1's baseline never left chance
    curve = pd.DataFrame([{"row": r, "dataset": "mnist", "model": "lenet5", "seed": s, "run": f"{r}-s{s}", "epoch": e,
                           "test_top1": v} for r, s, values in rows for e, v in zip(epochs, values)])
    fig = report.plot_curves(curve)
    every, zoom = fig.axes
    assert every.get_ylim() == (0, 100) and len(every.get_lines()) == 3
    assert every.get_title() == "mnist: every run, full protocol (1 did not train)"
    assert len([ln for ln in zoom.get_lines() if len(ln.get_xdata()) == 20]) == 2  # not the run at chance
    assert zoom.get_ylim()[0] > 85
    assert [t.get_text() for t in zoom.get_legend().get_texts()] == ["ce", "focusnet[d_attached] (post-hoc)"]


def test_the_gain_curve_axis_follows_the_bulk_of_the_points_and_counts_those_beyond_it():
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    gains = pd.DataFrame({"dataset": "mnist", "model": "lenet5", "seed": [s for s in range(3) for _ in range(50)],
                          "epoch": list(range(1, 51)) * 3, "both trained": True,
                          "gain": [-80.0 if e == 1 and s == 0 else 0.1 * ((e + s) % 3 - 1)
                                   for s in range(3) for e in range(1, 51)]})
    ax = report.plot_gain_curve(gains).axes[0]
    assert ax.get_ylim()[0] > -1  # one epoch-1 swing of -80 points does not set the scale
    assert "1 seed-epoch point(s) beyond the axis (epoch 1)" in [t.get_text() for t in ax.texts]


def test_a_seed_that_did_not_train_is_named_and_counted_beside_a_mean_of_the_runs_that_trained(tmp_path):
    runs = _mnist_runs_with_curves(tmp_path, {("ce", 0): 99.0, ("ce", 1): 98.0, ("dropmax", 0): 99.2,
                                              ("dropmax", 1): 11.35}, train_loss=0.1)
    [o] = report.orderings(runs)
    assert dict((m, (mean, n)) for m, mean, n in o.ours)["dropmax"] == (pytest.approx(99.2), 1)
    assert o.failures == (report.facts.RowFailure("dropmax", 1, "at chance (final 11.35%, chance 10.00%)",
                                                  pytest.approx((99.2 + 11.35) / 2), 2),)
    # ranked on the runs that trained: DropMax 99.20 above the baseline's 98.50, as the paper ranks them
    assert o.holds
    text = report.describe_ordering(runs)
    assert ("DropMax [8] seed 1 did not train: at chance (final 11.35%, chance 10.00%); it is left out of the mean "
            "above (counting it: 55.27, n=2).") in text
    table = report.compare(2, runs).set_index("method")
    assert table.loc["DropMax [8]", "ours"] == "99.20 (n=1) + 1 did not train"
    assert table.loc["DropMax [8]", "ours − paper"] == pytest.approx(99.2 - 99.43)
    assert table.loc["Baseline", "ours"] == "98.50 ± 0.71 (n=2)"
    # a row none of whose runs trained: no mean, said so, and not "not run yet"
    none = runs[(runs["row"] != "dropmax") | (runs["seed"] == 1)]
    assert report.compare(2, none).set_index("method").loc["DropMax [8]", "ours"] == "none trained (1 did not train)"
    text = report.describe_ordering(none)
    assert ("DropMax [8] seed 1 did not train: at chance (final 11.35%, chance 10.00%); no run of this row "
            "trained") in text
    assert "Not run yet: FocusNet (Ours)." in text  # DropMax ran: it is not in that list


def test_the_ordering_pairs_focusnet_with_baselines_that_trained_and_says_how_many_it_left_out(tmp_path):
    runs = _mnist_runs_with_curves(tmp_path, {("ce", 0): 99.0, ("ce", 1): 98.8, ("ce", 2): 11.35,
                                              ("focusnet", 0): 98.9, ("focusnet", 1): 98.9, ("focusnet", 2): 98.8},
                                   train_loss=0.1)
    [o] = report.orderings(runs)
    # seeds 0, 1: -0.1, +0.1 (mean 0); seed 2's baseline did not train: not a +87.45 gain
    assert (o.gain_n, o.gain_left_out, o.gaining) == (2, 1, 1) and o.gain == pytest.approx(0.0)
    assert ("paired by seed where both trained (1 seed(s) left out because a run did not train): "
            "0.00 ± 0.14 (n=2), 1/2 seeds gaining") in report.describe_ordering(runs)


def test_fig4_statement_pairs_each_seed_with_its_fully_trained_baseline():
    rows = [("ce", 0, None, 99.0), ("ce", 1, None, 98.0)]
    # FocusNet's accuracy rises with its stopped baseline's; only the 1-epoch stop falls short.
    for stop, teacher, on_it in [(1, 11.0, 98.4), (10, 97.0, 98.6), (20, 98.0, 98.8), (30, 98.5, 98.9)]:
        rows += [("teacher", s, stop, teacher) for s in (0, 1)]
        rows += [("focusnet_on_teacher", 0, stop, on_it + 0.5), ("focusnet_on_teacher", 1, stop, on_it - 0.5)]
    runs = pd.DataFrame([{"row": r, "dataset": "mnist", "model": "lenet5", "seed": s, "x": x, "profile": "paper",
                          "epochs": 200, "test_top1": v} for r, s, x, v in rows])
    text = report.describe_fig4(runs)
    # seed 0: 98.9 - 99.0, seed 1: 97.9 - 98.0 -> mean gain -0.10, no seed gaining
    assert ("fully trained baseline 98.50 (n=2, the seeds of these runs): FocusNet on the baseline stopped after 1 "
            "epoch (which reaches "
            "11.00%) reaches 98.40, -0.10 points against the fully trained baseline of the same seeds "
            "(0/2 seeds gaining)") in text
    # both seeds lose 0.10: the interval [-0.10, -0.10] shows a loss; 11.00% is near chance (10.00%): no caveat
    assert "which does not hold here (95% interval of the gain [-0.10, -0.10]). FocusNet" in text
    # seed 0 gains 0.4 and seed 1 loses 0.1 at the 1-epoch stop: the interval holds 0, so no verdict either way
    split = runs.assign(test_top1=runs["test_top1"].where(
        (runs["row"] != "focusnet_on_teacher") | (runs["x"] != 1) | (runs["seed"] != 0), 99.4))
    assert "which is undecided here (95% interval of the gain [" in report.describe_fig4(split)
    smoke = report.describe_fig4(runs.assign(profile="smoke", dataset="digits"))
    assert smoke.startswith("- **digits (lenet5), smoke (not a reproduction)**: a pipeline check")
    assert "holds" not in smoke
    [f] = report.fig4_facts(runs)
    first = f.stops.iloc[0]
    assert (f.full, f.full_n, f.stops.index[0]) == (pytest.approx(98.5), 2, 1)
    assert (first["baseline"], first["focusnet"], first["gain"], first["gaining"], first["n"]) == (
        pytest.approx(11.0), pytest.approx(98.4), pytest.approx(-0.1), 0, 2)
    assert f.near_chance  # 11.00% is near chance (10.00%): no caveat
    far = runs.assign(test_top1=runs["test_top1"].where((runs["row"] != "teacher") | (runs["x"] != 1), 40.0))
    assert not report.fig4_facts(far)[0].near_chance
    assert f.beats == [10, 20, 30]
    # four stops in the same order: tau = 1, exact p = 2 / 4! = 0.083 (two of the 24 orders are as extreme)
    assert (f.trend.stops, f.trend.tau, f.trend.p, f.trend.significant) == (4, pytest.approx(1.0),
                                                                            pytest.approx(2 / 24), False)
    assert (f.trend.lowest, f.trend.highest) == (pytest.approx(98.4), pytest.approx(98.9))
    # a FocusNet run whose seed has no fully trained baseline is left out of the pairing
    # a seed whose fully trained baseline has not finished is in FocusNet's means (as the figure draws
    # them) but in no pair, and named
    extra = runs[(runs["row"] == "focusnet_on_teacher") & (runs["seed"] == 0)].assign(seed=7, test_top1=99.7)
    g7 = report.fig4_facts(pd.concat([runs, extra]))[0]
    assert (g7.stops.loc[1, "runs"], g7.stops.loc[1, "n"], g7.stops.loc[1, "gain"]) == (3, 2, pytest.approx(-0.1))
    assert g7.stops.loc[1, "focusnet"] == pytest.approx((98.9 + 97.9 + 99.7) / 3)
    assert g7.unpaired == ((7, "not finished"),) and f.unpaired == ()
    assert ("In FocusNet's means but in no pair (no fully trained baseline that trained): seed 7 (its fully trained "
            "baseline not finished).") in report.describe_fig4(pd.concat([runs, extra]))
    # so is a stopped baseline of a seed without FocusNet on it: "which reaches" is over the same seeds
    lone = runs[(runs["row"] == "teacher") & (runs["x"] == 1)].head(1).assign(seed=2, test_top1=50.0)
    assert report.describe_fig4(pd.concat([runs, lone])) == text
    assert report.describe_fig4(runs[runs["row"] != "focusnet_on_teacher"]) == "- No Fig. 4 runs yet."
    assert (f.failed, f.top5, f.on_full_pairs, f.trend_all) == ((), None, 0, None)  # none recorded, none stated
    top5 = runs.assign(test_top5=runs["x"].map({1: 60.0, 10: 99.0, 20: 99.5, 30: 99.9}))
    assert report.fig4_facts(top5)[0].top5 == (60.0, 99.9)
    # seed 0's FocusNet on its stopped baselines: 98.9, 99.1, 99.3, 99.4 (mean 99.175); on its fully trained one 98.675
    on_full = pd.DataFrame([{**runs.iloc[0].to_dict(), "row": "focusnet", "test_top1": 98.675}])
    g = report.fig4_facts(pd.concat([runs, on_full]))[0]
    assert (g.above_on_full, g.on_full_pairs, g.on_full_gain) == (4, 4, pytest.approx(0.5))
    # a FocusNet run at chance is named and left out of the means and pairs; the trend is read again with it
    failed = runs.assign(test_top1=runs["test_top1"].where(
        (runs["row"] != "focusnet_on_teacher") | (runs["x"] != 20) | (runs["seed"] != 1), 9.8))
    g = report.fig4_facts(failed)[0]
    assert g.failed == (("focusnet_on_teacher", 1, 20),)
    assert (g.stops.loc[20, "n"], g.stops.loc[20, "did not train"], g.stops.loc[20, "focusnet"]) == (
        1, 1, pytest.approx(99.3))
    # without it seed 0 alone (99.3) sits above the 30-epoch stop (98.9): 5 of 6 pairs concordant, tau = +2/3
    # (exact p 0.33); with it the 20-epoch stop's mean is (99.3 + 9.8) / 2: 4 of 6 concordant, tau = +1/3 (p 0.75)
    assert (g.trend.tau, g.trend.p, g.trend.lowest, g.trend.highest) == (
        pytest.approx(2 / 3), pytest.approx(1 / 3), pytest.approx(98.4), pytest.approx(99.3))
    assert (g.trend_all.tau, g.trend_all.p) == (pytest.approx(1 / 3), pytest.approx(0.75))
    text = report.describe_fig4(failed)
    assert ("Across the 4 stops FocusNet's accuracy shows no significant trend with its baseline's (Kendall τ = +0.67, "
            "p = 0.33;") in text
    assert ("1 FocusNet run did not train (focusnet_on_teacher seed 1 on the 20-epoch baseline), left out of the "
            "means and pairs above. Counting it at its accuracy (Kendall τ = +0.33, p = 0.75).") in text
    # a fully trained baseline that did not train is no pair, and not in the baseline's mean
    dead = runs.assign(test_top1=runs["test_top1"].where((runs["row"] != "ce") | (runs["seed"] != 1), 11.35))
    h = report.fig4_facts(dead)[0]
    assert (h.full, h.full_n, h.stops.loc[1, "n"], h.stops.loc[1, "runs"]) == (pytest.approx(99.0), 1, 1, 2)
    assert h.stops.loc[1, "focusnet"] == pytest.approx(98.4) and h.unpaired == ((1, "did not train"),)
    assert "seed 1 (its fully trained baseline did not train)" in report.describe_fig4(dead)
    # a stop at 0 epochs (the untrained network) is named as our addition
    zero = runs.assign(x=runs["x"].replace(1, 0))
    assert ("FocusNet on the baseline stopped after 0 epochs (our addition: the untrained network of each seed, "
            "which reaches 11.00%)") in report.describe_fig4(zero)


def test_a_run_that_did_not_train_gets_stability_probes_at_lower_lr(results_dir, capsys, one_thread):
    import json

    from focuslib.store import ResultsStore

    cells = experiments.plan("table2", {"profile": "smoke", "seeds": [0], "variants": [], "epochs": 1})
    ce = next(c for c in cells if c.row == "ce")
    runs = experiments.run_plan([ce], results_dir=str(results_dir), device="cpu")
    metrics = results_dir / "smoke" / Path(runs["run_dir"][0]).name / "metrics.jsonl"
    # make the finished run look as if it had stayed at chance (the health check reads its curve)
    metrics.write_text(json.dumps({"epoch": 1, "train_loss": 2.3, "test_top1": 10.0}) + "\n")
    table = report.stability_probes(runs, profile="smoke")
    assert list(zip(table["lr"], table["warm-up epochs"])) == [(p.lr, p.warmup_epochs) for p in experiments.PROBES]
    command = ("python -m focuslib.experiments table2 --profile smoke --dataset digits --rows 'ce' --seeds 0 --probe")
    assert (table["test_top1 by epoch"] == f"not run: {command}").all()
    experiments.main(["table2", "--profile", "smoke", "--seeds", "0", "--rows", "ce", "--probe",
                      "--results-dir", str(results_dir), "--device", "cpu"])
    table = report.stability_probes(runs, profile="smoke")
    epochs = [len(v.split(", ")) for v in table["test_top1 by epoch"]]
    assert epochs == [experiments.PROBE_EPOCHS] * len(experiments.PROBES)
    store = ResultsStore(results_dir)
    for p in experiments.PROBES:
        probe = experiments.probe_config(ce.config, p)
        assert (probe.lr, probe.warmup_epochs, probe.epochs, probe.milestones, probe.profile) == (
            p.lr, p.warmup_epochs, experiments.PROBE_EPOCHS, (), "probe")
        assert (probe.seed, probe.method, probe.dataset) == (0, "ce", "digits") and store.is_finished(probe)
    # a run that trained gets no probe
    metrics.write_text(json.dumps({"epoch": 1, "train_loss": 0.3, "test_top1": 90.0}) + "\n")
    assert report.stability_probes(runs, profile="smoke").empty


def test_a_failed_variant_stays_out_of_the_papers_ordering_statement(tmp_path):
    runs = _mnist_runs_with_curves(tmp_path,
                                   {("ce", 0): 99.0, ("focusnet", 0): 99.1, ("focusnet[d_attached]", 0): 9.74},
                                   train_loss=3.2)
    assert len(report.health(runs)) == 1  # the health table still lists it
    [o] = report.orderings(runs)
    assert [m for m, _, _ in o.ours] == ["ce", "focusnet"] and o.failures == ()


def test_variant_statement_names_failed_seeds_and_pairs_the_rest(tmp_path):
    runs = _mnist_runs_with_curves(tmp_path, {("ce", 0): 99.0, ("ce", 1): 98.0, ("focusnet", 0): 99.1,
                                              ("focusnet", 1): 98.5, ("focusnet[d_attached]", 0): 9.74,
                                              ("focusnet[d_attached]", 1): 98.3}, train_loss=1.0)
    [v] = report.variant_gains(runs).to_dict("records")
    assert (v["variant"], v["finished"], v["failed"]) == ("focusnet[d_attached]", 2,
                                                          [(0, "at chance (final 9.74%, chance 10.00%)")])
    assert (v["n"], v["gaining"], v["focusnet n"]) == (1, 1, 1)
    assert v["gain"] == pytest.approx(98.3 - 98.0) and v["focusnet gain"] == pytest.approx(98.5 - 98.0)
    text = report.describe_variants(runs)
    assert text == ("- **focusnet[d_attached]** (post-hoc), mnist (lenet5): 2 seed(s) finished; seed 0 did not train, "
                    "at chance (final 9.74%, chance 10.00%). Over the 1 seed(s) where it and its baseline trained, its "
                    "paired gain over its own baseline is 0.30 (n=1) (1/1 seeds gaining); the paper's reading of "
                    "the loss on the same seeds: 0.50 (n=1).")
    assert report.describe_variants(runs[~runs["row"].isin(report.FOCUSNET_VARIANTS)]) == "- No variant runs yet."


def test_a_variant_is_not_paired_with_a_baseline_that_did_not_train(tmp_path):
    runs = _mnist_runs_with_curves(tmp_path, {("ce", 0): 99.0, ("ce", 1): 11.35, ("focusnet", 0): 99.1,
                                              ("focusnet", 1): 98.5, ("focusnet[d_attached]", 0): 99.3,
                                              ("focusnet[d_attached]", 1): 98.3}, train_loss=1.0)
    [v] = report.variant_gains(runs).to_dict("records")
    # seed 1's baseline is at chance: only seed 0 pairs (+0.3, and FocusNet's +0.1), not +86.95
    assert (v["n"], v["focusnet n"]) == (1, 1) and v["gain"] == pytest.approx(0.3)
    assert v["focusnet gain"] == pytest.approx(0.1)


def test_t_interval_and_what_it_says_about_the_papers_gain():
    low, high = report.t_interval([1.0, 2.0, 3.0])
    # mean 2, sample std 1, t(0.975, df=2) = 4.3027: half-width 4.3027 / sqrt(3) = 2.4842
    assert math.isclose(low, 2 - 2.4842, abs_tol=1e-4) and math.isclose(high, 2 + 2.4842, abs_tol=1e-4)
    assert all(math.isnan(v) for v in report.t_interval([1.0]))
    assert report.gain_verdict(-0.48, 0.31, 0.25, 5).startswith(
        "no significant gain or loss, and the paper's gain of +0.25 is not ruled out either: 5 seeds")
    assert report.gain_verdict(-0.48, 0.10, 0.25, 5) == (
        "no significant gain or loss (at 95%, n=5), and the paper's gain of +0.25 is outside it")
    assert report.gain_verdict(0.1, 0.4, 0.25, 3) == (
        "a significant gain (at 95%, n=3), and the paper's gain of +0.25 is inside it")
    assert report.gain_verdict(-0.9, -0.1, float("nan"), 3) == "a significant loss (at 95%, n=3)"


def test_ordering_statement_gives_the_interval_and_the_means_outside_it():
    runs = _runs({("ce", 0): 99.0, ("ce", 1): 99.1, ("ce", 2): 99.2,
                  ("focusnet", 0): 98.9, ("focusnet", 1): 99.0, ("focusnet", 2): 99.1}, dataset="mnist")
    runs["model"] = "lenet5"
    [o] = report.orderings(runs)
    # every paired gain is -0.10: a zero-width interval that excludes 0 and the paper's +0.25
    assert o.low == pytest.approx(-0.1) and o.high == pytest.approx(-0.1) and o.paper_gain == 0.25
    assert report.interval_facts(o.low, o.high, o.paper_gain) == report.decision.IntervalFacts(
        gain=False, loss=True, paper_inside=False, below_paper=True)
    # ce 99.1 ± 0.1 (n=3): 98.85 to 99.35 holds the paper's 99.31; FocusNet 98.75 to 99.25 misses its 99.56
    half = 4.302653 * 0.1 / math.sqrt(3)  # t(0.975, df=2) x sample std / sqrt(n)
    [(row, low, high)] = o.outside
    assert row == "focusnet" and low == pytest.approx(99.0 - half) and high == pytest.approx(99.0 + half)
    table = report.gains(runs, ["focusnet"])
    assert table["95% CI of gain"].iloc[0] == "[-0.10, -0.10]"


def test_health_statement_counts_failures_per_row_and_reads_their_probes(results_dir, one_thread):
    import json

    cells = experiments.plan("table2", {"profile": "smoke", "seeds": [0, 1], "variants": []})
    ce = [c for c in cells if c.row == "ce"]  # both seeds train on the digits in the smoke profile's 3 epochs
    runs = experiments.run_plan(ce, results_dir=str(results_dir), device="cpu")
    assert report.describe_health(runs, profile="smoke") == (
        "- **digits (lenet5), smoke (not a reproduction)**: every one of the 2 finished runs trained.")
    trained = Path(runs["run_dir"][0]) / "metrics.jsonl"  # seed 0 made to look well above chance from epoch 1
    rows = [json.loads(line) for line in trained.read_text().splitlines()]
    assert len(rows) == 3 and rows[2]["test_top1"] > 15.0
    rows[0]["test_top1"] = 50.0
    trained.write_text("".join(json.dumps(r) + "\n" for r in rows))
    failed = Path(runs["run_dir"][1]) / "metrics.jsonl"  # seed 1 made to look as if it had stayed at chance
    failed.write_text(json.dumps({"epoch": 1, "train_loss": 2.3, "test_top1": 10.0}) + "\n")
    text = report.describe_health(runs, profile="smoke")
    seed0 = json.loads((Path(runs["run_dir"][0]) / "metrics.jsonl").read_text().splitlines()[0])["train_top1"]
    assert text == ("- **digits (lenet5), smoke (not a reproduction)**: 1 of 2 finished runs did not train "
                    "(ce 1 of 2). Failure rate 50% (exact 95% interval 1% to 99%). "
                    "Each was already at chance after its first epoch. "
                    f"Mean train accuracy over the first epoch of the runs that did train, per row: ce {seed0:.1f}%.")
    assert report.first_epoch(runs, profile="smoke").loc[("digits", "lenet5", "ce")].tolist() == [seed0]
    probes = [experiments.Probe(0.01), experiments.Probe(0.1, warmup_epochs=1)]
    experiments.run_plan(experiments.probe_cells([ce[1]], probes), results_dir=str(results_dir), device="cpu")
    final = [json.loads((results_dir / "probe" / f"{c.label()}-{c.key()}" / "final.json").read_text())["test_top1"]
             for c in (experiments.probe_config(ce[1].config, p) for p in probes)]
    [h] = report.health_facts(runs, profile="smoke")
    assert [(p.lr, p.warmup_epochs, finals) for p, finals in h.probes] == [(0.01, 0, (final[0],)),
                                                                          (0.1, 1, (final[1],))]
    todo = report.remedies(runs, profile="smoke")
    assert todo["remedy"].tolist() == ["not run: python -m focuslib.experiments table2 --profile smoke "
                                       "--dataset digits --rows 'ce' --seeds 1 --remedy"]
    experiments.run_plan([replace(ce[1], config=experiments.remedy_config(ce[1].config))], results_dir=str(results_dir),
                         device="cpu")
    fixed = report.remedies(runs, profile="smoke").iloc[0]
    remedy = experiments.remedy_config(ce[1].config)
    assert fixed["remedy final"] == json.loads((results_dir / "remedy" / f"{remedy.label()}-{remedy.key()}" /
                                                "final.json").read_text())["test_top1"]
    base = runs.loc[runs["seed"] == 1, "test_top1"].item()  # the store's final of seed 1 (its curve was made to fail)
    assert (fixed["failed"], fixed["its baseline"], fixed["warm-up epochs"]) == (10.0, base, 1)
    [h] = report.health_facts(runs, profile="smoke")
    assert (h.remedy_warmup, h.remedies) == (1, (("ce", 1, fixed["remedy final"], base),))
    rows[0]["test_top1"] = rows[1]["test_top1"] = 10.0  # seed 0 now leaves chance only after its third epoch
    trained.write_text("".join(json.dumps(r) + "\n" for r in rows))
    [h] = report.health_facts(runs, profile="smoke")
    assert (h.at_chance_first, h.failed) == (1, 1)  # each was already at chance after its first epoch
    [(row, seed, _, epoch)] = h.recovered
    assert (row, seed, epoch) == ("ce", 0, 3)


def test_replayed_first_steps_show_when_the_last_layer_fell_silent(tmp_path):
    import json

    runs = _mnist_runs_with_curves(tmp_path, {("ce", 0): 99.0, ("ce", 1): 98.0, ("dropmax", 1): 11.35},
                                   train_loss=0.1)
    layers = ["Conv2d 6→16", "Linear 120→84"]
    traces = {  # per run: (gradient norm, inactive units of the two layers) after steps 1, 2, 3
        ("ce", 0): [(1.0, (0, 2)), (3.0, (1, 1)), (0.5, (2, 1))],
        ("ce", 1): [(2.0, (0, 3)), (1.0, (0, 5)), (0.4, (3, 4))],
        ("dropmax", 1): [(2.5, (0, 30)), (24.0, (16, 84)), (0.2, (16, 84))],
    }
    failed_dir = Path(runs.loc[runs["row"] == "dropmax", "run_dir"].item())  # its probes are looked up
    failed_cfg = RunConfig(dataset="mnist", model="lenet5", method="dropmax", seed=1, profile="paper")
    (failed_dir / "config.yaml").write_text(yaml.safe_dump({"config": failed_cfg.to_dict()}))
    for r in runs.itertuples():
        rows = [{"step": k + 1, "loss": 1.0, "lr": 0.1, "grad_norm": g, "dead": dict(zip(layers, dead))}
                for k, (g, dead) in enumerate(traces[(r.row, r.seed)])]
        (Path(r.run_dir) / "first_steps.jsonl").write_text("".join(json.dumps(x) + "\n" for x in rows))
    table = report.step_traces(runs)
    assert len(table) == 9 and table.groupby("row")["trained"].all().to_dict() == {"ce": True, "dropmax": False}
    assert table.loc[(table["row"] == "dropmax") & (table["step"] == 2), "inactive after Linear 120→84"].item() == 84
    from focuslib.report.facts import Spread

    f = report.first_steps(table)
    assert (f.steps, f.runs, f.failed, f.no_larger) == (3, 3, 1, False)
    # step 3: dropmax 16 and 84 inactive; ce 2, 3 (median 2.5) and 1, 4 (median 2.5); peaks 24.0 against 3.0, 2.0
    assert f.inactive == (("after Conv2d 6→16", Spread(16, 16, 2.5, 2, 3, 2)),
                          ("after Linear 120→84", Spread(84, 84, 2.5, 1, 4, 2)))
    assert f.peak == Spread(24.0, 24.0, 2.5, 2.0, 3.0, 2)
    assert (" The first 3 steps, replayed exactly (3 runs, 1 of them did not train). Units inactive on the batch of "
            "step 3, in the runs that did not train against those that trained (median, range): after Conv2d 6→16: 16 "
            "against 2.5 (2–3); after Linear 120→84: 84 against 2.5 (1–4). Largest gradient norm over these steps: "
            "24.0 against 2.5 (2.0–3.0).") in report.describe_health(runs)
    rows = [json.loads(line) for line in (failed_dir / "first_steps.jsonl").read_text().splitlines()]
    rows[1]["grad_norm"] = 2.8  # the failed run's peak now below a trained run's
    (failed_dir / "first_steps.jsonl").write_text("".join(json.dumps(x) + "\n" for x in rows))
    f = report.first_steps(report.step_traces(runs))
    assert f.no_larger and f.peak.bad_max == 2.8  # the runs that did not train had no larger gradients
    fig = report.plot_step_traces(table)
    assert [ax.get_ylabel() for ax in fig.axes] == ["gradient norm", "units after Conv2d 6→16\ninactive",
                                                   "units after Linear 120→84\ninactive"]
    assert report.plot_step_traces(table.iloc[0:0]) is None


def test_failure_rates_give_the_exact_interval_and_fishers_test_of_the_worst_row():
    from math import comb

    from scipy.stats import beta

    from focuslib.report.statements import failure_rates

    runs, failed = pd.Series({"ce": 6, "dropmax": 6}), pd.Series({"ce": 0, "dropmax": 5})
    low, high = beta.ppf(0.025, 5, 8), beta.ppf(0.975, 6, 7)  # Clopper-Pearson for 5 of 12
    # Two-sided Fisher: the tables with 5 failures in 12 runs as extreme as the observed ones (5 or 0 in dropmax).
    p = (comb(6, 5) * comb(6, 0) + comb(6, 0) * comb(6, 5)) / comb(12, 5)
    f = report.failure_test(runs, failed)
    assert (f.failed, f.runs, f.worst, f.worst_failed, f.worst_runs, f.differ) == (5, 12, "dropmax", 5, 6, True)
    assert (f.low, f.high, f.p) == (pytest.approx(low), pytest.approx(high), pytest.approx(p))
    even = report.failure_test(runs, pd.Series({"ce": 1, "dropmax": 2}))
    assert (even.worst, even.worst_failed, even.p, even.differ) == ("dropmax", 2, pytest.approx(1.0), False)
    one = report.failure_test(pd.Series({"ce": 5}), pd.Series({"ce": 2}))
    assert one.worst is None and math.isnan(one.p)  # one row: nothing to test it against
    assert failure_rates(f) == (
        f" Failure rate 42% (exact 95% interval {low:.0%} to {high:.0%})."
        f" dropmax (5 of 6) against the other rows (0 of 6): Fisher's exact test p = {p:.2f},"
        " unlikely under one failure rate common to all rows.")


def test_status_says_complete_not_agrees_and_counts_the_runs_that_did_not_train(tmp_path):
    from focuslib.store import ResultsStore

    store = ResultsStore(tmp_path / "results")
    # MNIST's ce and focusnet are read by the pre-registered decisive analysis (15 seeds)
    values = {"ce": [99.2, 99.3, 99.4, 99.3, 99.35] * 3, "focusnet": [99.0, 99.1, 98.9, 99.0, 99.05],
              "dropmax": [99.0, 11.35, 99.05]}
    for c in experiments.plan("table2", {"profile": "paper", "seeds": list(range(15))}):
        if c.dataset == "mnist" and c.seed < len(values.get(c.row, [])):
            final = {"test_top1": values[c.row][c.seed]}
            store.start(c.config, {})
            store.write_metrics(c.config,
                                [{"epoch": e + 1, "train_loss": 0.1, **final} for e in range(c.config.epochs)])
            store.finish(c.config, final)  # a finished run's record: one metrics row per epoch, ending at its final
    status = report.status(results_dir=str(store.root), data_root=str(tmp_path / "nodata"))
    mnist = status[status["data set"] == "mnist"].set_index("method")
    columns = ["status", "seeds", "paper in our 95% CI", "did not train"]
    assert mnist.loc["Baseline", columns].tolist() == ["complete", "15/15", "yes", 0]
    # 99.56 lies far above every FocusNet seed: it disagrees, and 5 of the 15 pre-registered seeds are partial
    assert mnist.loc["FocusNet (Ours)", columns].tolist() == ["partial", "5/15", "no", 0]
    # not pre-registered: the profile's 5 seeds; the interval is over the runs that trained, 98.71 to 99.34
    # (t(0.975, 1) = 12.71), which misses the paper's 99.43 (counting the run at chance, it would not)
    assert mnist.loc["DropMax [8]", columns].tolist() == ["partial", "3/5", "no", 1]
    assert mnist.loc["DropMax [8]", "ours (full protocol)"] == "99.03 ± 0.04 (n=2) + 1 did not train"


def test_provenance_lists_every_process_flags_uncommitted_code_and_reads_the_replay(tmp_path, one_thread, monkeypatch):
    import json

    from focuslib import train
    from focuslib.diagnostics import REPLAY
    from focuslib.train import Runtime, run

    monkeypatch.setattr(train, "code_version", lambda: "0.1.0+committed")  # whatever state this checkout is in

    cfg = RunConfig(dataset="digits", model="lenet5", method="focusnet", epochs=2, milestones=(), batch_size=64,
                    train_limit=128, test_limit=64, profile="paper")
    run(cfg, runtime=Runtime(device="cpu", results_dir=str(tmp_path), quiet=True, stop_after_epochs=1))
    focus = run(cfg, runtime=Runtime(device="cpu", results_dir=str(tmp_path), quiet=True))  # resumed: two processes
    frame = report.provenance(tmp_path).set_index("run")
    row, base = frame.loc[focus.run_dir.name], frame.loc[focus.run_dir.name.replace("focusnet", "ce")[:-16]
                                                         + focus.cfg.teacher.key()]
    assert (row["processes"], row["from epoch 1"], row["baseline"]) == (2, True, focus.cfg.teacher.label())
    assert (base["processes"], base["baseline"], row["replay"]) == (1, "—", "—")
    assert not frame["uncommitted code"].any()
    counts = report.provenance_counts(frame.reset_index())
    assert (counts.runs, counts.from_epoch_1, counts.uncommitted) == (2, 2, ())
    assert "None lists uncommitted code" in report.describe_provenance(frame.reset_index())
    # one process of the FocusNet run ran edited code; a full replay by committed code settles it
    doc = yaml.safe_load((focus.run_dir / "config.yaml").read_text())
    doc["earlier"][0]["code_version"] = "0.1.0+abc.dirty"
    (focus.run_dir / "config.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    counts = report.provenance_counts(report.provenance(tmp_path))
    assert counts.uncommitted == (f"{focus.run_dir.name} (on {focus.cfg.teacher.label()})",)
    assert (counts.replayed, counts.differ, counts.not_replayed) == (0, 0, 1)
    (focus.run_dir / REPLAY).write_text(json.dumps({"code_version": "0.1.0+def.dirty", "identical": True}))
    counts = report.provenance_counts(report.provenance(tmp_path))  # a replay by edited code proves nothing
    assert (counts.replayed, counts.differ, counts.not_replayed) == (0, 0, 1)
    (focus.run_dir / REPLAY).write_text(json.dumps({"code_version": "0.1.0+def", "identical": True}))
    frame = report.provenance(tmp_path).set_index("run")
    assert frame.loc[focus.run_dir.name, "uncommitted code"]
    assert frame.loc[focus.run_dir.name, "code versions"].startswith("0.1.0+abc.dirty, ")
    assert frame.loc[focus.run_dir.name, ["replay", "replayed by"]].tolist() == ["identical", "0.1.0+def"]
    counts = report.provenance_counts(frame.reset_index())
    assert (counts.replayed, counts.differ, counts.not_replayed) == (1, 0, 0)
    (focus.run_dir / REPLAY).write_text(json.dumps({"code_version": "0.1.0+def", "identical": False}))
    counts = report.provenance_counts(report.provenance(tmp_path))
    assert (counts.replayed, counts.differ, counts.not_replayed) == (0, 1, 0)
    assert report.describe_provenance(report.provenance(tmp_path)).endswith(
        f" 1 list uncommitted code (a version ending in .dirty): {focus.run_dir.name} (on {focus.cfg.teacher.label()})."
        " A full replay by committed code reproduced 0 of them at every epoch; 1 differ.")
    assert report.provenance_counts(frame.iloc[0:0].reset_index()).runs == 0


def _as_if_committed(store, base_dir: Path, top1: float) -> None:
    """A baseline as a fresh clone holds it (no weights), its record's final top-1 set to ``top1``
    (a record trained elsewhere), kept consistent with its metrics."""
    final = {**json.loads((base_dir / "final.json").read_text()), "test_top1": top1}
    (base_dir / "final.json").write_text(json.dumps(final))
    (base_dir / "metrics.jsonl").write_text(json.dumps({**store.read_metrics(base_dir)[-1], "test_top1": top1}) + "\n")
    for name in ("model.pt", "model.pt.sha256.json"):
        (base_dir / name).unlink()


def test_a_baseline_retrained_to_another_result_is_shown_beside_the_pair_that_used_it(tmp_path, one_thread,
                                                                                      monkeypatch):
    import shutil

    from focuslib import train
    from focuslib.report.decision import Preregistration, describe_preregistration
    from focuslib.store import ResultsStore
    from focuslib.train import Runtime, run

    monkeypatch.setattr(train, "code_version", lambda: "0.1.0+committed")  # whatever state this checkout is in

    store, rt = ResultsStore(tmp_path), Runtime(device="cpu", results_dir=str(tmp_path), quiet=True)
    cfg = RunConfig(dataset="digits", model="lenet5", method="focusnet", epochs=1, milestones=(), batch_size=64,
                    train_limit=128, test_limit=64, profile="paper")
    first = run(cfg, runtime=rt)
    base_dir = store.run_dir(first.cfg.teacher)
    again = store.final(first.cfg.teacher)["test_top1"]  # what this machine's retrain gives
    record = round(again + 1.5, 2)
    _as_if_committed(store, base_dir, record)
    shutil.rmtree(first.run_dir)
    focus = run(cfg, runtime=rt)  # retrains the baseline's weights, then trains against them
    runs = pd.DataFrame([{"row": row, "dataset": "digits", "model": "lenet5", "profile": "paper", "epochs": 1,
                          "seed": 0, "test_top1": top1, "run_dir": str(d)}
                         for row, top1, d in (("ce", record, base_dir),
                                              ("focusnet", focus.final["test_top1"], focus.run_dir))])
    found = report.evidence.retrained_baselines(runs)
    assert found[["row", "seed", "baseline record", "baseline used"]].values.tolist() == [
        ["focusnet", 0, record, again]]
    assert found.loc[0, "retrained on"].endswith("(cpu, 1 thread(s))")
    origin = report.provenance(tmp_path).set_index("run")
    assert origin.loc[focus.run_dir.name, "baseline retrained"].startswith(f"record {record}, used {again} (")
    assert origin.loc[base_dir.name, "baseline retrained"] == "—"
    shown = report.provenance_exceptions(origin.reset_index())
    assert list(shown["run"]) == [focus.run_dir.name] and "baseline retrained" in shown
    text = describe_preregistration(Preregistration("digits", "paper", ("digits",), (0,), judges=("focusnet",),
                                                    decided_at=1), runs)
    assert (f"- **focusnet** seed 0 (digits) was trained against its baseline's weights trained again on "
            f"{found.loc[0, 'retrained on']}: final top-1 {again:.2f} where the baseline's record says "
            f"{record:.2f}; its pair reads the record, as pre-registered.") in text
    # a retrain that gives the record's result is said to, and is no exception
    _as_if_committed(store, base_dir, again)
    shutil.rmtree(focus.run_dir)
    focus = run(cfg, runtime=rt)
    origin = report.provenance(tmp_path)
    assert origin.set_index("run").loc[focus.run_dir.name, "baseline retrained"] == "as recorded"
    assert report.evidence.retrained_baselines(runs.assign(test_top1=[again, 0.0])).empty
    assert "baseline retrained" not in report.provenance_exceptions(origin)


def test_fig4_points_keep_a_failed_focusnet_run_in_the_mean_and_give_the_mean_without_it():
    rows = [("ce", 0, None, 99.0)]
    for s, (teacher, on_it) in enumerate([(11.0, 98.0), (12.0, 9.8), (13.0, 99.0)]):  # seed 1's FocusNet at chance
        rows += [("teacher", s, 1, teacher), ("focusnet_on_teacher", s, 1, on_it)]
    runs = pd.DataFrame([{"row": r, "dataset": "mnist", "model": "lenet5", "seed": s, "x": x, "profile": "paper",
                          "epochs": 200, "test_top1": v} for r, s, x, v in rows])
    points = report.fig4_frame(runs).set_index("series")
    assert points.loc["FocusNet on it", ["n", "did not train"]].tolist() == [3, 1]
    assert points.loc["FocusNet on it", "mean"] == pytest.approx((98.0 + 9.8 + 99.0) / 3)
    assert points.loc["FocusNet on it", "mean of runs that trained"] == pytest.approx(98.5)
    # a stopped baseline near chance is the figure's point, not a failure
    assert points.loc["poorly-trained baseline", ["did not train", "mean of runs that trained"]].tolist() == [0, 12.0]
    fig = report.fig4_plot(runs)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert "FocusNet did not train (9.80%), not in the line" in labels
    assert fig.axes[0].get_ylim()[0] < 11.0  # the lowest run that trained stays in view
    assert "3 seed(s)" in fig.axes[0].get_title()
    # the zoom below: FocusNet's runs that trained (98.0, 99.0) and the full-length baseline (99.0), not the
    # stopped baselines near chance nor the failed run
    assert fig.axes[1].get_title().startswith("zoom:") and fig.axes[1].get_ylim()[0] > 97.5
    # the fully trained baseline's line: the seeds of the panel's FocusNet runs, runs that trained
    other = pd.DataFrame([{**runs.iloc[0].to_dict(), "seed": s, "test_top1": v} for s, v in [(5, 97.0), (1, 11.35)]])
    ax = report.fig4_plot(pd.concat([runs, other])).axes[0]
    handles = dict(zip(*reversed(ax.get_legend_handles_labels())))
    line = handles["baseline at 200 epochs (same seeds)"]
    assert line.get_ydata()[0] == pytest.approx(99.0)  # not seed 5's 97.0 (no FocusNet run), nor seed 1's 11.35
    zero = report.fig4_plot(runs.assign(x=runs["x"].replace(1, 0))).axes[0]
    assert "0 epochs: untrained\nbranch (our addition)" in [t.get_text() for t in zero.texts]


def test_health_tells_apart_the_runs_of_one_row_and_seed_at_fig4s_stops(tmp_path):
    import json

    rows = []
    for stop, final in [(10, 99.0), (40, 9.74), (50, 98.9)]:  # one seed's FocusNet runs on three stopped baselines
        d = tmp_path / "paper" / f"mnist-lenet5-focusnet-s0-e200-{stop:016d}"
        d.mkdir(parents=True)
        cfg = RunConfig(dataset="mnist", model="lenet5", method="focusnet", epochs=2, milestones=(), profile="paper",
                        method_kwargs={"stop": stop})  # a distinct config per folder; never trained here
        d.joinpath("config.yaml").write_text(yaml.safe_dump({"config": cfg.to_dict()}))
        d.joinpath("metrics.jsonl").write_text("".join(
            json.dumps({"epoch": e, "train_loss": 0.1, "test_top1": v}) + "\n"
            for e, v in [(1, 9.8 if stop == 50 else 95.0), (2, final)]))
        rows.append({"row": "focusnet_on_teacher", "dataset": "mnist", "model": "lenet5", "seed": 0, "x": float(stop),
                     "profile": "paper", "epochs": 2, "test_top1": final, "run_dir": str(d)})
    runs = pd.DataFrame(rows)
    failed = report.health(runs)
    assert failed[["x", "run", "final"]].values.tolist() == [
        [40.0, "mnist-lenet5-focusnet-s0-e200-0000000000000040", 9.74]]
    [h] = report.health_facts(runs)
    assert (h.failed, h.finished, h.per_row, h.at_chance_first) == (1, 3, (("focusnet_on_teacher", 1, 3),), 0)
    assert h.recovered == (("focusnet_on_teacher", 0, 50.0, 2),)
    assert "focusnet_on_teacher seed 0 on the 50-epoch baseline (left chance after epoch 2)" in report.describe_health(
        runs)
    assert "x" not in report.health(runs.drop(columns="x"))  # no stop, no column
    probes = report.stability_probes(runs, artefact="fig4")
    assert len(probes) == 3 and all("--rows 'focusnet_on_teacher' --seeds 0 --stops 40 --probe" in c
                                    for c in probes["test_top1 by epoch"])


def test_the_experiments_job_runs_only_the_fig4_stops_asked_for(results_dir, one_thread):
    assert experiments.main(["fig4", "--profile", "smoke", "--seeds", "0", "--rows", "teacher", "--stops", "2",
                             "--results-dir", str(results_dir), "--device", "cpu"]) == 0
    assert [p.name.rsplit("-", 1)[0] for p in (results_dir / "smoke").iterdir()] == ["digits-lenet5-ce-s0-e2"]
    with pytest.raises(SystemExit):
        experiments.main(["table2", "--stops", "1", "--results-dir", str(results_dir)])


def test_a_remedy_run_is_the_full_recipe_after_a_warmup_under_its_own_profile(results_dir, one_thread):
    cells = experiments.plan("table2", {"profile": "paper", "dataset": "mnist", "seeds": [3], "variants": []})
    dropmax = next(c for c in cells if c.row == "dropmax").config
    remedy = experiments.remedy_config(dropmax)
    assert remedy.profile == "remedy" and remedy.warmup_epochs == experiments.REMEDY_WARMUP_EPOCHS == 1
    assert remedy.replace(warmup_epochs=0, profile="paper") == dropmax  # nothing else changes
    focus = next(c for c in cells if c.row == "focusnet").config
    assert experiments.remedy_config(focus).teacher == focus.teacher  # on the paper's own baseline
    assert experiments.main(["table2", "--profile", "smoke", "--seeds", "0", "--rows", "ce", "--remedy",
                             "--results-dir", str(results_dir), "--device", "cpu"]) == 0
    (run_dir,) = (results_dir / "remedy").iterdir()
    doc = yaml.safe_load((run_dir / "config.yaml").read_text())["config"]
    assert (doc["warmup_epochs"], doc["profile"], doc["method"]) == (1, "remedy", "ce")
    with pytest.raises(SystemExit):
        experiments.main(["table2", "--probe", "--remedy", "--results-dir", str(results_dir)])


def test_cell_states_and_the_status_grid() -> None:
    # Hand-made rows of report.status(): each state of the rule once, two tables, two data sets.
    status = pd.DataFrame([
        {"table": "2", "method": "Baseline", "data set": "mnist", "model": "lenet5", "status": "complete",
         "paper in our 95% CI": "yes", "did not train": 0},
        {"table": "2", "method": "FocusNet (Ours)", "data set": "mnist", "model": "lenet5", "status": "complete",
         "paper in our 95% CI": "no", "did not train": 0},
        {"table": "2", "method": "DropMax [8]", "data set": "mnist", "model": "lenet5", "status": "complete",
         "paper in our 95% CI": "yes", "did not train": 1},
        {"table": "2", "method": "Baseline", "data set": "cifar10", "model": "resnet18", "status": "partial",
         "paper in our 95% CI": "no", "did not train": 0},
        {"table": "7", "method": "Baseline [1]", "data set": "cub200", "model": "resnet18", "status": "smoke only",
         "paper in our 95% CI": "—", "did not train": "—"},
        {"table": "7", "method": "Baseline [1]", "data set": "cifar100", "model": "resnet18",
         "status": "needs data not present", "paper in our 95% CI": "—", "did not train": "—"},
    ])
    assert [report.cell_state(r) for _, r in status.iterrows()] == [
        "reproduced", "not reproduced", "a run did not train", "partial", "untested", "untested"]
    grid = report.status_grid(status)
    assert grid.shape == (5, 4)
    assert grid.loc["Table 2: Baseline (lenet5)", "mnist"] == "reproduced"
    assert grid.loc["Table 2: Baseline (resnet18)", "cifar10"] == "partial"
    assert pd.isna(grid.loc["Table 2: Baseline (lenet5)", "cifar10"])  # not a cell of the paper
    fig = report.plot_status_grid(grid)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["reproduced (1)", "not reproduced (1)", "a run did not train (1)", "partial (1)", "untested (2)"]


def test_sources_name_each_full_protocol_run_and_its_code() -> None:
    repo = Path(__file__).resolve().parents[1]
    runs = report.full_protocol_results("table2", str(repo / "results"))
    found = report.sources(runs)
    assert len(found) == len(runs) > 0
    for folder, versions in zip(found["run folder"], found["code versions"]):
        doc = yaml.safe_load((repo / "results" / folder / "config.yaml").read_text())
        # every process that trained the run, oldest first, each version once
        earlier = [p["code_version"] for p in doc.get("earlier") or []]
        wanted = list(dict.fromkeys(earlier + [doc["runtime"]["code_version"]]))
        assert versions == ", ".join(wanted)
    block = report.sources_block(runs)
    assert block.startswith("<details class='sources'>") and f"{len(runs)} full-protocol runs" in block
    assert all(folder in block for folder in found["run folder"])
    assert report.sources_block(runs[runs["profile"] == "smoke"]) == ""


def test_the_report_only_reads_and_the_artefact_module_runs():
    """Issue 19 item 3: no function of ``focuslib.report`` runs a plan with training on; the pages
    train through :mod:`focuslib.artefact`."""
    from focuslib import artefact, report  # noqa: PLC0415

    assert not hasattr(report, "reproduce") and not hasattr(report, "collect")
    sources = [inspect.getsource(m) for m in (report.tables, report.evidence, report.findings, report.decision,
                                             report.beyond, report.facts, report.statements, report.plots)]
    calls = [line for s in sources for line in s.splitlines() if "run_plan(" in line]
    assert calls and all("train=False" in line for line in calls), calls
    assert callable(artefact.reproduce) and callable(artefact.collect)
    for page in ("table2", "table3", "table5", "table7", "table8", "table9", "table10", "fig4", "beyond"):
        text = (Path(__file__).resolve().parents[1] / "notebooks" / f"{page}.py").read_text()
        assert "artefact.reproduce(" in text or "artefact.collect(" in text, page


def test_dead_units_of_a_probe_or_remedy_are_one_short_column(tmp_path):
    """Issue 20: one "dead/units" per ReLU layer in one column, so the table fits the page."""
    from focuslib.report.evidence import _dead_brief  # noqa: PLC0415

    assert _dead_brief(tmp_path) == "no diagnostics yet"
    (tmp_path / "diagnostics.json").write_text(json.dumps({"dead_units": {
        "features.1": {"after": "Conv2d 1→6", "dead": 0, "units": 6},
        "features.4": {"after": "Conv2d 6→16", "dead": 15, "units": 16}}}))
    assert _dead_brief(tmp_path) == "0/6 · 15/16"


def test_provenance_exceptions_keep_the_runs_and_columns_a_reader_needs():
    origin = pd.DataFrame({"run": ["a", "b", "c"], "baseline": ["—"] * 3, "processes": [1, 2, 1],
                           "code versions": ["0.1.0+abc.dirty", "0.1.0+def", "0.1.0+123, 0.1.0+456"],
                           "torch": ["2.14.1"] * 3, "uncommitted code": [True, False, False],
                           "from epoch 1": [True, True, False], "replay": ["—", "identical", "—"],
                           "replayed by": ["—", "0.1.0+fff", "—"], "baseline retrained": ["—", "as recorded", "—"]})
    shown = report.provenance_exceptions(origin)
    assert shown["run"].tolist() == ["a", "b"]
    assert shown["code versions"].tolist() == ["abc.dirty", "def"] and shown["replayed by"].tolist() == ["—", "fff"]
    assert list(shown.columns) == ["run", "baseline", "code versions", "from epoch 1", "replay", "replayed by"]
    # a run trained against a baseline retrained to another result: kept, with the column that says so
    origin.loc[2, "baseline retrained"] = "record 85.23, used 85.01 (NVIDIA H100 (cuda, bf16))"
    shown = report.provenance_exceptions(origin)
    assert shown["run"].tolist() == ["a", "b", "c"]
    assert shown["baseline retrained"].tolist()[2] == "record 85.23, used 85.01 (NVIDIA H100 (cuda, bf16))"


def test_by_run_folds_the_identifying_columns_into_one():
    frame = pd.DataFrame({"row": ["dropmax", "focusnet_on_teacher"], "dataset": ["mnist"] * 2, "model": ["lenet5"] * 2,
                          "seed": [3, 0], "x": [np.nan, 40.0], "final": [11.35, 9.74]})
    shown = report.by_run(frame)
    assert list(shown.columns) == ["run", "final"]
    assert shown["run"].tolist() == ["dropmax · mnist/lenet5 · seed 3",
                                     "focusnet_on_teacher · mnist/lenet5 · seed 0 · stop 40"]
    assert report.by_run(frame.drop(columns="seed")).equals(frame.drop(columns="seed"))  # not a run table: unchanged


def test_a_page_reads_every_seed_the_store_holds_finished(tmp_path):
    """Issue 21: the pre-registered MNIST seeds past the profile's 0-4 reach the pages, the findings
    and the status, but only where the store holds the run finished."""
    import shutil  # noqa: PLC0415

    committed = Path(__file__).resolve().parents[1] / "results" / "paper"
    small = shutil.ignore_patterns("*.pt", "*.sha256.json", "NOTE.md")
    for seed, finished in ((5, True), (6, False)):
        src = next(committed.glob(f"mnist-lenet5-ce-s{seed}-e200-*"))
        shutil.copytree(src, tmp_path / "paper" / src.name, ignore=small)
        if not finished:
            (tmp_path / "paper" / src.name / "final.json").unlink()
    profile_seeds = {c.seed for c in experiments.plan("table2", {"profile": "paper"})}
    cells = report.full_protocol_plan("table2", str(tmp_path))
    assert [(c.row, c.dataset, c.seed) for c in cells if c.seed not in profile_seeds] == [("ce", "mnist", 5)]
    assert report.full_protocol_results("table2", str(tmp_path))["seed"].tolist() == [5]
