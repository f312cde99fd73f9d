"""The pre-registered decisions (book/preregistration.md) computed from a plan's results (issue 21)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from focuslib import experiments
from focuslib.report import protocol_beside_paper
from focuslib.report.decision import (
    CIFAR10_REDUCED,
    MNIST_DECISIVE,
    OUTCOMES,
    PREREGISTRATIONS,
    IntervalFacts,
    baseline_failures,
    covering,
    describe_decisions,
    describe_preregistration,
    interval_facts,
    outcomes,
    paper_gain,
    preregistered,
    wilson,
)
from focuslib.store import ResultsStore


def test_wilson_interval_matches_the_published_values():
    # 1 of 5, by hand: centre (0.2 + 1.96²/10) / (1 + 1.96²/5) = 0.3304, half-width 0.2941
    assert wilson(1, 5) == pytest.approx((0.03622, 0.62448), abs=1e-4)
    assert wilson(0, 10) == pytest.approx((0.0, 0.27753), abs=1e-4)
    assert all(math.isnan(v) for v in wilson(0, 0))


def test_the_rule_against_the_papers_gain_and_zero():
    assert outcomes(-0.49, 0.28, 0.25) == []  # the interval holds the paper's +0.25 and 0: undecided
    assert outcomes(-0.4, 0.2, 0.25) == [OUTCOMES[0]]
    assert outcomes(0.1, 0.2, 0.25) == [OUTCOMES[0], OUTCOMES[1]]
    assert outcomes(-0.3, -0.1, 0.25) == [OUTCOMES[0], OUTCOMES[2]]
    assert outcomes(-0.3, -0.1, math.nan) == [OUTCOMES[2]]  # no paper number: against 0 only
    assert interval_facts(-0.49, 0.28, 0.25) == IntervalFacts(gain=False, loss=False, paper_inside=True,
                                                               below_paper=False)
    assert interval_facts(0.1, 0.2, 0.25) == IntervalFacts(gain=True, loss=False, paper_inside=False,
                                                            below_paper=True)
    assert not interval_facts(0.0, 0.3, 0.25).gain and not interval_facts(-0.3, 0.0, 0.25).loss  # 0 inside: neither
    assert interval_facts(-0.3, -0.1, math.nan) == IntervalFacts(gain=False, loss=True, paper_inside=False,
                                                                  below_paper=False)
    assert paper_gain("focusnet", "mnist", "lenet5") == pytest.approx(99.56 - 99.31)
    assert paper_gain("focusnet[d_attached]", "mnist", "lenet5") == pytest.approx(0.25)
    assert math.isnan(paper_gain("lcls+rent", "mnist", "lenet5"))


def _runs(values: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"row": row, "dataset": "mnist", "model": "lenet5", "profile": "paper", "epochs": 200,
                          "seed": seed, "test_top1": v} for row, vs in values.items() for seed, v in enumerate(vs)])


def test_preregistered_pairs_only_runs_that_trained_and_reports_failures_apart():
    runs = _runs({"ce": [99.0, 99.1, 99.2, 98.9], "focusnet": [99.1, 99.3, 9.8, 99.2]})  # seed 2 did not train
    frame = preregistered(runs, ["focusnet"]).set_index("row")
    line = frame.loc["focusnet"]
    assert (line["runs"], line["did not train"], line["pairs"]) == (4, 1, 3)
    assert line["paired gain"] == pytest.approx(0.2)  # gains 0.1, 0.2, 0.3 over seeds 0, 1, 3
    # mean 0.2, std 0.1, t(0.975, 2) = 4.3027: 0.2 ± 0.24842
    assert (line["gain 95% low"], line["gain 95% high"]) == pytest.approx((-0.04842, 0.44842), abs=1e-4)
    assert line["paper gain"] == pytest.approx(0.25)
    assert not any(line[o] for o in OUTCOMES) and line["decision"] == "undecided at 3 seed pair(s)"
    assert (line["failure 95% low"], line["failure 95% high"]) == pytest.approx(wilson(1, 4))


def test_preregistered_decides_when_the_interval_excludes():
    runs = _runs({"ce": [99.0, 99.1, 99.2, 98.9, 99.0], "lcls+rent": [98.8, 98.85, 99.0, 98.7, 98.75]})
    line = preregistered(runs, ["lcls+rent"]).iloc[0]
    assert line["pairs"] == 5 and line["paired gain"] == pytest.approx(-0.22)
    assert line[OUTCOMES[2]] and not line[OUTCOMES[0]]  # no paper number on MNIST: only against 0
    assert line["decision"] == "a loss is shown"


def test_the_baselines_failures_are_reported_like_every_rows():
    # seed 1's baseline at chance (10.0 on a 10-class set): its pair is left out and it counts as a failure
    runs = _runs({"ce": [99.0, 10.0, 99.2], "focusnet": [99.1, 99.0, 99.3]})
    base = baseline_failures(runs).iloc[0]
    assert (base["row"], base["runs"], base["did not train"]) == ("ce", 3, 1)
    assert (base["failure 95% low"], base["failure 95% high"]) == pytest.approx(wilson(1, 3))
    frame = preregistered(runs, ["focusnet"])
    assert frame.iloc[0]["pairs"] == 2 and frame.iloc[0]["did not train"] == 0
    text = describe_decisions(frame, baseline_failures(runs))
    assert text.splitlines()[0].startswith("- **ce** (mnist, the baseline of every pair): 1 of 3 run(s) did not train")
    assert len(text.splitlines()) == 2


def _finish(store: ResultsStore, profile: str, values: dict) -> None:
    """Finish the Table 2 runs of ``profile`` named in ``values[(row, seed)]`` (final test top-1)."""
    for c in experiments.plan("table2", {"profile": profile}):
        if (c.row, c.seed) in values:
            store.start(c.config, {})
            final = {"test_top1": values[(c.row, c.seed)], "test_top5": 100.0}
            store.write_metrics(c.config, [{"epoch": e + 1} for e in range(c.config.epochs - 1)]
                                + [{"epoch": c.config.epochs, **final}])
            store.finish(c.config, final)


def test_the_cifar10_preregistration_reads_the_reduced_runs_and_keeps_the_post_hoc_row_apart(tmp_path):
    store = ResultsStore(tmp_path / "results")
    values = {("ce", 0): 85.5, ("ce", 1): 85.0, ("ce", 2): 10.0,  # seed 2's baseline did not train
              ("focusnet", 0): 86.0, ("focusnet", 1): 85.2, ("focusnet", 2): 84.0,
              ("focusnet[official]", 0): 85.1}
    _finish(store, "reduced", values)
    _finish(store, "paper", {("ce", 0): 99.0})  # a full-protocol run is never read by the reduced analysis
    runs = CIFAR10_REDUCED.runs(results_dir=str(store.root))
    assert set(runs["profile"]) == {"reduced"} and set(runs["model"]) == {"resnet20"} and len(runs) == 7
    frame = CIFAR10_REDUCED.decide(runs).set_index("row")
    assert list(frame.index) == ["focusnet", "focusnet[official]"]
    assert list(frame["post hoc"]) == [False, True]
    assert frame.loc["focusnet", "pairs"] == 2 and frame.loc["focusnet", "paired gain"] == pytest.approx(0.35)
    assert frame.loc["focusnet", "paper gain"] == pytest.approx(94.86 - 92.43)
    pairs = CIFAR10_REDUCED.pairs(runs)
    assert list(zip(pairs["row"], pairs["seed"], pairs["gain"].round(2))) == [
        ("focusnet", 0, 0.5), ("focusnet", 1, 0.2), ("focusnet[official]", 0, -0.4)]
    text = describe_preregistration(CIFAR10_REDUCED, runs)
    assert text.startswith("**CIFAR-10, reduced protocol on CPU (our addition): interim reading, 3 of 5 seeds.** "
                           "The pre-registration asks for its decision when the baseline and every judged row "
                           "have finished seeds 0–4; "
                           "until then every outcome below is interim.")
    assert "1 of 3 run(s) did not train" in text
    assert "**focusnet[official]** (cifar10, post-hoc, reported apart, 1 seed pair(s)" in text
    beside = protocol_beside_paper(2, runs, "reduced").set_index("row")
    assert beside.loc["ce", "paper"] == pytest.approx(92.43) and beside.loc["ce", "paper's model"] == "resnet18"
    assert beside.loc["focusnet[official] (post-hoc)", "paper"] == pytest.approx(94.86)
    # ce's seed 2 did not train: left out of the mean, and said so
    assert beside.loc["ce", "ours (reduced protocol (our addition))"] == "85.25 ± 0.35 (n=2) + 1 did not train"
    assert beside.loc["ce", "our model"] == "resnet20" and beside.loc["ce", "our epochs"] == 30
    assert beside.loc["ce", "seed ids"] == "0,1,2"


def test_the_mnist_preregistration_asks_for_its_decision_at_15_seeds():
    assert MNIST_DECISIVE.rows == ("focusnet", "lcls+rent", "focusnet[d_attached]")
    assert MNIST_DECISIVE.decided_at == 15 and MNIST_DECISIVE.profile == "paper"
    assert describe_preregistration(MNIST_DECISIVE, _runs({"ce": [99.0], "focusnet": [99.1]})).startswith(
        "**MNIST, decisive: interim reading, 0 of 15 seeds.** The pre-registration asks for its decision when the "
        "baseline and every judged row have finished seeds 0–14")  # lcls+rent has no seed yet


def test_an_interval_end_that_two_decimals_would_show_as_zero_gets_a_third():
    from focuslib.report.tables import fmt_interval  # noqa: PLC0415

    assert fmt_interval(0.003, 0.47) == "[+0.003, +0.47]"  # above 0: "a gain is shown", which +0.00 would hide
    assert fmt_interval(-0.0049, 0.2) == "[-0.005, +0.20]"
    assert fmt_interval(-0.27, 0.07) == "[-0.27, +0.07]" and fmt_interval(0.0, 0.5) == "[+0.00, +0.50]"
    assert fmt_interval(0.0003, 0.5) == "[+3.0e-04, +0.50]"


def test_covering_finds_the_analysis_that_judges_a_row_or_takes_it_as_baseline():
    assert covering("focusnet", "mnist") is MNIST_DECISIVE and covering("ce", "mnist") is MNIST_DECISIVE
    assert covering("lcls+rent", "mnist") is MNIST_DECISIVE
    assert covering("focusnet[d_attached]", "mnist") is None  # post-hoc, reported apart: judges nothing
    assert covering("dropmax", "mnist") is None and covering("focusnet", "cifar10") is None  # not pre-registered
    assert covering("focusnet", "cifar10", "reduced") is CIFAR10_REDUCED
    assert covering("focusnet", "mnist", "reduced") is None
    assert set(PREREGISTRATIONS) == {MNIST_DECISIVE, CIFAR10_REDUCED}


def test_the_reading_says_interim_until_the_baseline_and_every_judged_row_have_the_seeds_asked_for():
    both = {"ce": [99.0] * 14, "focusnet": [99.1] * 14, "lcls+rent": [99.2] * 14}
    assert MNIST_DECISIVE.reading(_runs(both)) == "MNIST, decisive: interim reading, 14 of 15 seeds"
    fifteen = _runs({row: [99.0] * 15 for row in both})
    assert MNIST_DECISIVE.reading(fifteen) == "MNIST, decisive: decision at 15 seeds"
    assert describe_preregistration(MNIST_DECISIVE, fifteen).startswith(
        "**MNIST, decisive: decision at 15 seeds** (seeds 0–14, the decision the pre-registration asks for)."
        "\n\n- **ce** (mnist, the baseline of every pair): 0 of 15 run(s)")
    sixteen = _runs({row: [99.0] * 16 for row in both})
    assert MNIST_DECISIVE.reading(sixteen) == "MNIST, decisive: decision at 15 seeds; reading at 16"
    assert MNIST_DECISIVE.reading(sixteen.iloc[0:0]) == "MNIST, decisive: interim reading, 0 of 15 seeds"
    # seeds outside the pre-registered 0-19 are not its runs
    outside = _runs({row: [99.0] * 25 for row in both}).query("seed >= 10")
    assert MNIST_DECISIVE.finished_seeds(outside) == 10 and not MNIST_DECISIVE.decided(outside)
    # 15 seeds finished, but not the decision's 0-14: still interim
    gap = _runs({row: [99.0] * 16 for row in both}).query("seed != 3")
    assert MNIST_DECISIVE.reading(gap) == "MNIST, decisive: interim reading at 15 seeds, 14 of the decision's 15"
    # a post-hoc row reported apart does not hold the decision back
    assert MNIST_DECISIVE.finished_seeds(_runs({**both, "focusnet[d_attached]": [99.0] * 3})) == 14


def test_a_baseline_ahead_of_a_judged_row_is_no_decision_at_the_baselines_seeds():
    # CIFAR-10 reduced as it stood: ce seeds 0-4 finished, focusnet seeds 0-1
    runs = _runs({"ce": [85.5, 84.9, 85.2, 85.2, 85.5], "focusnet": [83.9, 84.7]})
    assert CIFAR10_REDUCED.finished_seeds(runs) == 2 and not CIFAR10_REDUCED.decided(runs)
    assert CIFAR10_REDUCED.progress(runs) == "interim reading, 2 of 5 seeds"
    # a seed at which the judged row has a run but the baseline has none does not count either
    ahead = _runs({"ce": [85.5, 84.9], "focusnet": [83.9, 84.7, 84.0]})
    assert CIFAR10_REDUCED.finished_seeds(ahead) == 2
    # a run that did not train is finished: it counts (and is reported as a failure, apart)
    failed = _runs({"ce": [85.5] * 5, "focusnet": [83.9, 84.7, 10.0, 84.1, 84.2]})
    assert CIFAR10_REDUCED.progress(failed) == "decision at 5 seeds"


def test_the_d_attached_variant_is_reported_apart_as_book_preregistration_md_says():
    # book/preregistration.md (2026-12-04): "`focusnet[d_attached]` (...; post-hoc, reported apart)"
    assert MNIST_DECISIVE.judges == ("focusnet", "lcls+rent") and MNIST_DECISIVE.apart == ("focusnet[d_attached]",)
    runs = _runs({"ce": [99.0, 99.1], "focusnet": [98.9, 99.0], "focusnet[d_attached]": [99.2, 99.0]})
    frame = MNIST_DECISIVE.decide(runs).set_index("row")
    assert frame.loc["focusnet[d_attached]", "post hoc"] and not frame.loc["focusnet", "post hoc"]
    assert "**focusnet[d_attached]** (mnist, post-hoc, reported apart, 2 seed pair(s)" in describe_preregistration(
        MNIST_DECISIVE, runs)


def test_seeds_past_the_decisions_add_a_reading_at_every_finished_seed_and_leave_the_decision_as_it_was():
    # seeds 0-14: focusnet 0.1 below ce; seeds 15-19: 1.0 above, which moves the all-seed mean only
    ce = [99.0 + 0.01 * s for s in range(20)]
    runs = _runs({"ce": ce, "focusnet": [v - 0.1 + 0.001 * s for s, v in enumerate(ce[:15])]
                  + [v + 1.0 for v in ce[15:]], "lcls+rent": ce})
    decision = MNIST_DECISIVE.at_decision()
    assert decision.seeds == tuple(range(15)) and decision.judges == MNIST_DECISIVE.judges
    at15 = decision.decide(runs).set_index("row").loc["focusnet"]
    assert at15["pairs"] == 15 and at15["paired gain"] == pytest.approx(-0.1 + 0.007)
    every = MNIST_DECISIVE.decide(runs).set_index("row").loc["focusnet"]
    assert every["pairs"] == 20 and every["paired gain"] == pytest.approx((15 * (-0.1 + 0.007) + 5 * 1.0) / 20)
    text = describe_preregistration(MNIST_DECISIVE, runs)
    assert text.startswith("**MNIST, decisive: decision at 15 seeds** (seeds 0–14, the decision the "
                           "pre-registration asks for).")
    decision_part, reading_part = text.split("**Reading at every finished seed** (20 finished by every judged row;")
    assert "15 seed pair(s) that trained): paired gain -0.09 points" in decision_part
    assert "20 seed pair(s) that trained): paired gain +0.18 points" in reading_part
    assert "run as the pre-registration allows" in reading_part


def test_a_page_shows_one_row_of_an_analysis_without_changing_it():
    one = MNIST_DECISIVE.only("lcls+rent")
    assert one.rows == ("lcls+rent",) and one.table10_rows == MNIST_DECISIVE.table10_rows
    assert (one.profile, one.seeds, one.decided_at) == (MNIST_DECISIVE.profile, MNIST_DECISIVE.seeds, 15)
    runs = _runs({"ce": [99.0, 99.1], "lcls+rent": [99.2, 99.4], "focusnet": [98.0, 98.1]})
    assert list(one.decide(runs)["row"]) == ["lcls+rent"]
    with pytest.raises(ValueError, match="'dropmax'.*its rows"):
        MNIST_DECISIVE.only("dropmax")


def test_the_strip_plot_labels_each_row_with_its_pairs_and_marks_the_post_hoc_one():
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    from focuslib.report import plot_decisions  # noqa: PLC0415

    runs = _runs({"ce": [99.0, 99.1, 99.2], "focusnet": [98.9, 99.0, 99.3],
                  "focusnet[d_attached]": [99.2, 99.0, 10.0]})
    shown = MNIST_DECISIVE.only("focusnet", "focusnet[d_attached]")  # lcls+rent, judged too, has no run here
    fig = plot_decisions(runs, shown.decide(runs), title=shown.reading(runs))
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels == ["focusnet (mnist, n=3)", "focusnet[d_attached] (mnist, n=2, post-hoc)"]
    assert fig._suptitle.get_text() == "MNIST, decisive: interim reading, 3 of 15 seeds"
    assert fig.axes[0].get_ylim()[0] > fig.axes[0].get_ylim()[1]  # the first row on top


def test_the_strip_plot_legend_names_what_any_row_draws():
    import matplotlib  # noqa: PLC0415

    matplotlib.use("Agg")
    from focuslib.report import plot_decisions  # noqa: PLC0415

    # lcls+rent (first) has one pair and no paper number; focusnet (second) has an interval and one
    runs = _runs({"ce": [99.0, 99.1], "lcls+rent": [99.2, math.nan], "focusnet": [98.9, 99.3]})
    frame = preregistered(runs, ["lcls+rent", "focusnet"])
    legend = [t.get_text() for t in plot_decisions(runs, frame).axes[0].get_legend().get_texts()]
    assert sorted(legend) == ["95% interval of the mean", "one seed", "the paper's gain"]


def test_a_decision_frame_follows_the_order_of_its_rows_not_of_the_runs():
    runs = _runs({"ce": [99.0, 99.1], "focusnet": [98.9, 99.0], "lcls+rent": [99.2, 99.3]})
    assert list(preregistered(runs, ["lcls+rent", "focusnet"])["row"]) == ["lcls+rent", "focusnet"]
    assert list(preregistered(runs, ["focusnet", "lcls+rent"])["row"]) == ["focusnet", "lcls+rent"]
